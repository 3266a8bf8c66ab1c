import TDXCore

// Checks one expression against a parameter type and produces its Value, reporting every problem.

struct TypeChecker {
    var diagnostics = DiagnosticBag()
    /// `let` bindings, already substituted into one another.
    let lets: [String: Expr]

    private func found(_ e: Expr) -> String {
        switch e.kind {
        case .integer(let v): "integer `\(v)`"
        case .float(_, let lit): "number `\(lit)`"
        case .string: "a string"
        case .bool(let b): "`\(b)`"
        case .identifier(let s): "`\(s)`"
        case .list: "a list"
        case .range: "a range"
        case .call(let n, _): "`\(n)(…)`"
        case .error: "an invalid value"
        }
    }

    /// Replaces `let` names (also inside lists and calls).
    func substitute(_ e: Expr) -> Expr {
        switch e.kind {
        case .identifier(let n): if let v = lets[n] { return Expr(v.kind, e.range) }; return e
        case .list(let xs): return Expr(.list(xs.map(substitute)), e.range)
        case .call(let n, let args): return Expr(.call(n, args.map(substitute)), e.range)
        default: return e
        }
    }

    mutating func check(_ raw: Expr, _ type: ParamType, key: String) -> Value? {
        let e = substitute(raw)
        if case .error = e.kind { return nil }
        switch type {
        case .int(let b):
            guard case .integer(let v) = e.kind else { return wrong(e, type, key) }
            guard b.contains(Double(v)) else {
                diagnostics.error(.outOfRange(key: key, value: String(v), allowed: b.description), at: e.range)
                return nil
            }
            return .int(v)
        case .float(let b):
            let v: Double
            switch e.kind {
            case .integer(let i): v = Double(i)
            case .float(let d, _): v = d
            default: return wrong(e, type, key)
            }
            guard b.contains(v) else {
                let text: String = if case .float(_, let lit) = e.kind { lit } else { Value.canonicalFloat(v) }
                diagnostics.error(.outOfRange(key: key, value: text, allowed: b.description), at: e.range)
                return nil
            }
            return .float(v)
        case .bool:
            guard case .bool(let v) = e.kind else { return wrong(e, type, key) }
            return .bool(v)
        case .string:
            guard case .string(let s, _) = e.kind else { return wrong(e, type, key) }
            return .string(s)
        case .choice(let variants):
            return checkChoice(e, variants, key: key)
        case .list(let inner):
            guard case .list(let xs) = e.kind else { return wrong(e, type, key) }
            var out: [Value] = []
            var ok = true
            for x in xs { if let v = check(x, inner, key: key) { out.append(v) } else { ok = false } }
            return ok ? .list(out) : nil
        case .layers:
            switch e.kind {
            case .identifier("all"): return .symbol("all")
            case .integer(let v):
                guard v >= 0 else {
                    diagnostics.error(.outOfRange(key: key, value: String(v), allowed: "≥ 0"), at: e.range)
                    return nil
                }
                return .list([.int(v)])
            case .range(let a, let b, let s):
                let step = s ?? 1
                guard a >= 0, a <= b, step >= 1 else {
                    diagnostics.error(.invalid(key: key, reason: "range \(a)..\(b)\(s.map { " by \($0)" } ?? "") is empty or negative",
                                               help: "write ranges as `first..last` with 0 ≤ first ≤ last and a positive step"),
                                      at: e.range)
                    return nil
                }
                return .range(from: a, to: b, by: step)
            case .list(let xs):
                guard let v = check(Expr(.list(xs), e.range), .list(.int(.atLeast(0))), key: key) else { return nil }
                return v
            default: return wrong(e, type, key)
            }
        case .variable:
            guard case .identifier(let n) = e.kind else { return wrong(e, type, key) }
            guard Schema.variableNames.contains(n) else {
                diagnostics.error(.unknownVariable(n, suggestion: Suggest.closest(to: n, in: Schema.variableNames)), at: e.range)
                return nil
            }
            return .symbol(n)
        case .blockRef:
            switch e.kind {
            case .identifier(let n): return .symbol(n)
            case .string("", _): return .string("")
            default: return wrong(e, type, key)
            }
        case .either(let types):
            // Try quietly; report the alternative that best matches the value's shape.
            for t in types {
                var probe = TypeChecker(lets: lets)
                if let v = probe.check(e, t, key: key), !probe.diagnostics.hasErrors { return v }
            }
            let shaped = types.first { t in
                switch (t, e.kind) {
                case (.int, .integer), (.float, .integer), (.float, .float), (.string, .string), (.bool, .bool),
                     (.list, .list), (.choice, .identifier), (.choice, .call), (.layers, _): return true
                default: return false
                }
            }
            if let t = shaped { return check(e, t, key: key) }
            diagnostics.error(.wrongType(key: key, expected: type.noun, found: found(e)), at: e.range)
            return nil
        }
    }

    private mutating func wrong(_ e: Expr, _ type: ParamType, _ key: String) -> Value? {
        diagnostics.error(.wrongType(key: key, expected: type.noun, found: found(e)), at: e.range)
        return nil
    }

    private mutating func checkChoice(_ e: Expr, _ variants: [Variant], key: String) -> Value? {
        let names = variants.map(\.name)
        switch e.kind {
        case .identifier(let n):
            if let v = variants.first(where: { $0.name == n }) {
                if v.arguments.isEmpty { return .symbol(n) }
                diagnostics.error(.wrongArgumentCount(call: n, expected: v.required..<(v.arguments.count + 1), found: 0), at: e.range)
                return nil
            }
            diagnostics.error(.unknownValue(key: key, value: n, allowed: variants.map(\.signature),
                                            suggestion: Suggest.closest(to: n, in: names)), at: e.range)
            return nil
        case .call(let name, let args):
            guard let v = variants.first(where: { $0.name == name.text }) else {
                diagnostics.error(.unknownValue(key: key, value: name.text, allowed: variants.map(\.signature),
                                                suggestion: Suggest.closest(to: name.text, in: names)), at: name.range)
                return nil
            }
            guard (v.required...v.arguments.count).contains(args.count) else {
                diagnostics.error(.wrongArgumentCount(call: name.text, expected: v.required..<(v.arguments.count + 1), found: args.count),
                                  at: e.range)
                return nil
            }
            var out: [Value] = []
            var ok = true
            for (a, spec) in zip(args, v.arguments) {
                if let val = check(a, spec.type, key: "\(name.text).\(spec.name)") { out.append(val) } else { ok = false }
            }
            guard ok else { return nil }
            // Trailing arguments equal to their defaults are dropped: one resolved form per meaning.
            while out.count > v.required, out.last == v.defaults[out.count - 1 - v.required] { out.removeLast() }
            return .call(name.text, out)
        default:
            diagnostics.error(.wrongType(key: key, expected: ParamType.choice(variants).noun, found: found(e)), at: e.range)
            return nil
        }
    }
}

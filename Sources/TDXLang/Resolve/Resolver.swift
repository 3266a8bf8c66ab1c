import Foundation
import TDXCore

/// Reads a file for the front end; tests substitute an in-memory one.
public typealias FileReader = @Sendable (String) throws -> String

/// The result of checking a spec: everything read, every diagnostic, and the resolved spec when
/// there were no errors.
public struct CheckResult: Sendable {
    public var sources: SourceManager
    public var diagnostics: [Diagnostic]
    public var ast: SpecAST?
    public var spec: ResolvedSpec?
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

public enum Frontend {
    public static let diskReader: FileReader = { path in try String(contentsOfFile: path, encoding: .utf8) }

    /// Parses, imports, resolves and checks the spec at `path`.
    public static func check(path: String, reader: @escaping FileReader = diskReader) -> CheckResult {
        var r = Resolver(reader: reader)
        return r.run(path: path, text: nil)
    }

    /// Same, for text already in memory (imports are still read through `reader`).
    public static func check(text: String, path: String, reader: @escaping FileReader = diskReader) -> CheckResult {
        var r = Resolver(reader: reader)
        return r.run(path: path, text: text)
    }
}

struct Resolver {
    let reader: FileReader
    var sources = SourceManager()
    var diags = DiagnosticBag()
    /// Import chain being read, for cycle detection.
    var importStack: [String] = []

    init(reader: @escaping FileReader) { self.reader = reader }

    mutating func run(path: String, text: String?) -> CheckResult {
        let source: String
        if let text { source = text } else {
            do { source = try reader(path) } catch {
                let id = sources.add(SourceFile(path: path, text: ""))
                diags.error(.cannotRead(path, reason: Resolver.reason(error, path: path)), at: SourceRange(file: id, start: 0, end: 0))
                return CheckResult(sources: sources, diagnostics: diags.items, ast: nil, spec: nil)
            }
        }
        let (ast, items) = load(path: path, text: source)
        let spec = resolve(items)
        let sorted = diags.items.enumerated().sorted {
            ($0.element.range.file, $0.element.range.start, $0.offset) < ($1.element.range.file, $1.element.range.start, $1.offset)
        }.map(\.element)
        return CheckResult(sources: sources, diagnostics: sorted, ast: ast,
                           spec: diags.hasErrors ? nil : spec)
    }

    static func reason(_ error: Error, path: String? = nil) -> String {
        var isDirectory: ObjCBool = false
        if let path, FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return "it is a directory" }
        let ns = error as NSError
        if ns.domain == NSCocoaErrorDomain && (ns.code == NSFileReadNoSuchFileError || ns.code == 260) { return "no such file" }
        if ns.domain == NSCocoaErrorDomain && ns.code == NSFileReadInapplicableStringEncodingError { return "not UTF-8 text" }
        return ns.localizedDescription
    }

    /// Parses a file and splices in its imports, depth first.
    mutating func load(path: String, text: String) -> (SpecAST, [Item]) {
        let canonical = URL(fileURLWithPath: path).standardizedFileURL.path
        importStack.append(canonical)
        defer { importStack.removeLast() }
        let id = sources.add(SourceFile(path: path, text: text))
        let (ast, pd) = Parser.parse(sources[id]!, fileID: id)
        diags.append(contentsOf: pd)
        var items: [Item] = []
        for item in ast.items {
            guard case .importFile(let rel) = item.kind else { items.append(item); continue }
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
            let target = rel.hasPrefix("/") ? rel : dir.appendingPathComponent(rel).standardizedFileURL.path
            if importStack.contains(URL(fileURLWithPath: target).standardizedFileURL.path) {
                diags.error(.importCycle(rel), at: item.range)
                continue
            }
            do {
                let t = try reader(target)
                let (_, inner) = load(path: target, text: t)
                items.append(contentsOf: inner.filter { if case .header = $0.kind { return false }; return true })
            } catch {
                diags.error(.importNotFound(rel, reason: Resolver.reason(error, path: target)), at: item.range)
            }
        }
        return (ast, items)
    }

    // MARK: resolution

    mutating func resolve(_ items: [Item]) -> ResolvedSpec {
        var version = 1
        // let bindings first: they may be used before they appear.
        var letExprs: [String: Expr] = [:]
        var letRanges: [String: SourceRange] = [:]
        for item in items {
            switch item.kind {
            case .header(let v): version = v
            case .letBinding(let name, let e):
                if let first = letRanges[name.text] {
                    diags.error(.duplicateLet(name.text), at: name.range, related: [("first defined here", first)])
                } else {
                    letExprs[name.text] = e; letRanges[name.text] = name.range
                }
            default: break
            }
        }
        let lets = substituteLets(letExprs)

        var settings: [String: ResolvedParam] = [:]
        var blocks: [ResolvedBlock] = []
        var blockNames: [String: SourceRange] = [:]
        var singletonSeen: [String: SourceRange] = [:]
        for item in items {
            switch item.kind {
            case .setting(let entry):
                guard let p = Schema.topLevel.param(named: entry.key.text) else {
                    let suggestion = Suggest.closest(to: entry.key.text, in: Schema.topLevel.params.map(\.name))
                    diags.error(.unknownTopLevelKey(entry.key.text, suggestion: suggestion), at: entry.key.range)
                    continue
                }
                if settings[p.name] != nil { diags.error(.duplicateKey(entry.key.text), at: entry.key.range); continue }
                if let rp = checkEntry(entry, p, lets: lets) { settings[p.name] = rp }
            case .block(let b):
                guard let schema = Schema.block(named: b.kind.text) else {
                    diags.error(.unknownBlockKind(b.kind.text, suggestion: Suggest.closest(to: b.kind.text, in: Schema.blockKindNames)),
                                at: b.kind.range)
                    continue
                }
                if !schema.multiple {
                    if let first = singletonSeen[schema.name] {
                        diags.error(.tooManyBlocks(schema.name), at: b.kind.range, related: [("first one here", first)])
                        continue
                    }
                    singletonSeen[schema.name] = b.kind.range
                }
                guard let rb = resolveBlock(b, schema, lets: lets) else { continue }
                if let first = blockNames[rb.name] {
                    diags.error(.duplicateBlock(rb.name), at: b.label?.range ?? b.kind.range, related: [("first defined here", first)])
                    continue
                }
                blockNames[rb.name] = b.label?.range ?? b.kind.range
                blocks.append(rb)
            default: break
            }
        }
        let seed = settings["seed"] ?? ResolvedParam(name: "seed", value: Schema.topLevel.params[0].defaultValue, sweep: nil, range: .none)
        var spec = ResolvedSpec(version: version, settings: [seed], blocks: blocks)
        addImplicitBlocks(&spec)
        spec.blocks = spec.blocks.enumerated()
            .sorted { (blockOrder($0.element), $0.offset) < (blockOrder($1.element), $1.offset) }
            .map(\.element)
        var cross = CrossChecker(spec: spec, sources: sources)
        cross.taskWritten = singletonSeen["task"] != nil
        cross.run()
        diags.append(contentsOf: cross.diagnostics)
        return cross.spec
    }

    private func blockOrder(_ b: ResolvedBlock) -> Int { Schema.blocks.firstIndex { $0.name == b.kind } ?? 99 }

    /// Lets may refer to earlier lets; substitute until fixed point, guarding against cycles.
    private mutating func substituteLets(_ raw: [String: Expr]) -> [String: Expr] {
        var out = raw
        for _ in 0..<8 {
            let tc = TypeChecker(lets: out)
            var changed = false
            for (k, v) in out {
                let s = tc.substitute(v)
                if s != v { out[k] = s; changed = true }
            }
            if !changed { break }
        }
        return out
    }

    private mutating func checkEntry(_ entry: Entry, _ p: Param, lets: [String: Expr]) -> ResolvedParam? {
        var tc = TypeChecker(lets: lets)
        defer { diags.append(contentsOf: tc.diagnostics) }
        if entry.isSweep {
            guard p.sweepable else { tc.diagnostics.error(.sweepNotAllowed(p.name), at: entry.key.range); return nil }
            let e = tc.substitute(entry.value)
            guard case .list(let xs) = e.kind else {
                if case .error = e.kind { return nil }
                tc.diagnostics.error(.wrongType(key: p.name, expected: "a list of values to sweep over", found: "a single value"), at: e.range)
                return nil
            }
            guard !xs.isEmpty else { tc.diagnostics.error(.emptySweep(p.name), at: e.range); return nil }
            let vals = xs.compactMap { tc.check($0, p.type, key: entry.key.text) }
            guard vals.count == xs.count else { return nil }
            return ResolvedParam(name: p.name, value: vals[0], sweep: vals, range: entry.value.range)
        }
        guard let v = tc.check(entry.value, p.type, key: entry.key.text) else { return nil }
        return ResolvedParam(name: p.name, value: v, sweep: nil, range: entry.value.range)
    }

    private mutating func resolveBlock(_ b: Block, _ schema: BlockSchema, lets: [String: Expr]) -> ResolvedBlock? {
        var subKind: String?
        // A misspelt kind is reported, then the body is checked as the kind it was most likely meant to be, so its
        // other errors show in the same run; the block itself stays unresolved.
        var misspelt = false
        if schema.hasKinds {
            let kindNames = schema.subKinds.map(\.name)
            if let e = b.entries.first(where: { $0.key.text == "kind" }) {
                // The kind decides which parameters the block has, so it cannot vary across variants.
                if e.isSweep { diags.error(.sweepNotAllowed("kind"), at: e.key.range); return nil }
                var tc = TypeChecker(lets: lets)
                subKind = tc.check(e.value, schema.param(named: "kind")!.type, key: "kind")?.symbolValue
                diags.append(contentsOf: tc.diagnostics)
                if subKind == nil {
                    guard case .identifier(let written) = e.value.kind, let s = Suggest.closest(to: written, in: kindNames) else { return nil }
                    subKind = s; misspelt = true
                }
            } else if let l = b.label, kindNames.contains(l.text) {
                subKind = l.text
            } else {
                let at = b.label?.range ?? b.kind.range
                let s = b.label.flatMap { Suggest.closest(to: $0.text, in: kindNames) }
                if let l = b.label, let s {
                    diags.error(.unknownValue(key: "\(schema.name) kind", value: l.text, allowed: kindNames, suggestion: s), at: at)
                    subKind = s; misspelt = true
                } else {
                    diags.error(.invalid(key: schema.name, reason: "the \(schema.name) kind is missing",
                                         help: "write `\(schema.name) \(kindNames[0]) { … }` or set `kind = \(kindNames[0])`"), at: at)
                    return nil
                }
            }
        }
        var seen: [String: SourceRange] = [:]
        var params: [String: ResolvedParam] = [:]
        for e in b.entries {
            guard let p = schema.param(named: e.key.text) else {
                let candidates = schema.params.filter { $0.applies(toKind: subKind) }.flatMap { [$0.name] + $0.aliases }
                diags.error(.unknownKey(e.key.text, block: schema.name, suggestion: Suggest.closest(to: e.key.text, in: candidates)),
                            at: e.key.range)
                continue
            }
            if let first = seen[p.name] {
                diags.error(.duplicateKey(e.key.text), at: e.key.range, related: [("first set here", first)])
                continue
            }
            seen[p.name] = e.key.range
            if misspelt && p.name == "kind" { continue }   // already reported
            if !p.applies(toKind: subKind) {
                diags.error(.keyNotForKind(e.key.text, block: schema.name, kind: subKind ?? "", validFor: p.kinds ?? []), at: e.key.range)
                continue
            }
            if let rp = checkEntry(e, p, lets: lets) { params[p.name] = rp }
        }
        if misspelt { return nil }
        let derived = schema.name == "intervene" ? Self.interveneDefaults(written: params) : [:]
        let ordered = schema.params.filter { $0.applies(toKind: subKind) }.map { p -> ResolvedParam in
            if p.name == "kind", let subKind, params["kind"] == nil {
                return ResolvedParam(name: "kind", value: .symbol(subKind), sweep: nil, range: .none)
            }
            return params[p.name] ?? ResolvedParam(name: p.name, value: derived[p.name] ?? p.defaultValue(forKind: subKind), sweep: nil, range: .none)
        }.filter { r in
            // Elided parameters appear only when they differ from their default (written or not).
            guard let p = schema.param(named: r.name), p.elided, r.sweep == nil else { return true }
            return r.value != p.defaultValue(forKind: subKind)
        }
        let name = b.label?.text ?? (subKind ?? schema.name)
        return ResolvedBlock(kind: schema.name, name: name, subKind: subKind, params: ordered, range: b.range)
    }

    /// An intervene block that names a variable once (`latent = top(sr_td_error)`) gets that variable, not
    /// td_error, in the `layer`, `latent` and `control` it leaves unwritten.
    static func interveneDefaults(written: [String: ResolvedParam]) -> [String: Value] {
        let named = ["latent", "layer", "control"].lazy.compactMap { written[$0]?.value }
            .first { ["top", "peak", "lowest", "above"].contains($0.head ?? "") }
        guard let v = named?.arguments.first?.symbolValue else { return [:] }
        return ["layer": .call("peak", [.symbol(v)]), "latent": .call("top", [.symbol(v)]), "control": .call("lowest", [.symbol(v)])]
    }

    private func addImplicitBlocks(_ spec: inout ResolvedSpec) {
        func add(_ kind: String) {
            guard spec.block(kind) == nil, let s = Schema.block(named: kind) else { return }
            let params = s.params.map { ResolvedParam(name: $0.name, value: $0.defaultValue, sweep: nil, range: .none) }
            spec.blocks.append(ResolvedBlock(kind: kind, name: kind, subKind: nil, params: params, range: .none))
        }
        add("model")
        if spec.block("sae") != nil || spec.block("correlate") != nil || spec.block("geometry") != nil { add("activations") }
        add("report")
    }
}

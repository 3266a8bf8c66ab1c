// A small argument scanner for subcommands: flags, options with values, positionals, and a clear
// error (with a suggestion) for anything unknown.

public struct Arguments {
    public private(set) var positionals: [String] = []
    private var flags: Set<String> = []
    private var options: [String: [String]] = [:]

    /// `flags`: options without a value (`--json`); `options`: options taking one value (`--cache PATH`).
    public init(_ argv: [String], flags allowedFlags: [String], options allowedOptions: [String]) throws {
        var i = 0
        var onlyPositionals = false
        while i < argv.count {
            let a = argv[i]
            i += 1
            if onlyPositionals || !a.hasPrefix("-") || a == "-" { positionals.append(a); continue }
            if a == "--" { onlyPositionals = true; continue }
            var name = a
            var inlineValue: String?
            if let eq = a.firstIndex(of: "=") { name = String(a[..<eq]); inlineValue = String(a[a.index(after: eq)...]) }
            if allowedFlags.contains(name) && inlineValue == nil { flags.insert(name); continue }
            if allowedOptions.contains(name) {
                if let v = inlineValue { options[name, default: []].append(v); continue }
                guard i < argv.count else { throw UsageError("option `\(name)` needs a value") }
                options[name, default: []].append(argv[i])
                i += 1
                continue
            }
            let all = allowedFlags + allowedOptions
            let help = Suggest.closest(to: name, in: all).map { "did you mean `\($0)`?" }
                ?? (all.isEmpty ? "this command takes no options" : "options: \(all.joined(separator: ", "))")
            throw UsageError("unknown option `\(name)`", help: help)
        }
    }

    public func has(_ flag: String) -> Bool { flags.contains(flag) }
    public func value(_ option: String) -> String? { options[option]?.last }
    public func values(_ option: String) -> [String] { options[option] ?? [] }
}

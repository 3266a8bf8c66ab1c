// The message catalog: every diagnostic tdx's front end can produce, with its one-sentence cause
// and one-sentence help. Nothing else in TDXLang builds message text.

public enum DiagnosticKind: Sendable, Equatable {
    // Lexical
    case unterminatedString
    case unterminatedBlockComment
    case unexpectedCharacter(String)
    case invalidNumber(String)
    case invalidEscape(String)
    case tripleQuoteContentOnOpeningLine
    case tripleQuoteBadIndentation
    // Syntax
    case expected(String, found: String)
    case unclosed(String)
    case unsupportedVersion(Int)
    case misplacedHeader
    // Imports and names
    case importNotFound(String, reason: String)
    /// The spec file named on the command line cannot be read.
    case cannotRead(String, reason: String)
    case importCycle(String)
    case duplicateLet(String)
    case undefinedName(String, suggestion: String?)
    // Schema
    case unknownBlockKind(String, suggestion: String?)
    case unknownKey(String, block: String, suggestion: String?)
    case keyNotForKind(String, block: String, kind: String, validFor: [String])
    case unknownTopLevelKey(String, suggestion: String?)
    case duplicateKey(String)
    case duplicateBlock(String)
    case tooManyBlocks(String)
    case missingBlock(String, neededBy: String)
    case wrongType(key: String, expected: String, found: String)
    case outOfRange(key: String, value: String, allowed: String)
    case unknownValue(key: String, value: String, allowed: [String], suggestion: String?)
    case wrongArgumentCount(call: String, expected: Range<Int>, found: Int)
    case sweepNotAllowed(String)
    case emptySweep(String)
    case unknownVariable(String, suggestion: String?)
    case layerOutOfRange(layer: Int, depth: Int, model: String)
    case invalid(key: String, reason: String, help: String)

    public var code: String {
        switch self {
        case .unterminatedString: "E0001"
        case .unterminatedBlockComment: "E0002"
        case .unexpectedCharacter: "E0003"
        case .invalidNumber: "E0004"
        case .invalidEscape: "E0005"
        case .tripleQuoteContentOnOpeningLine: "E0006"
        case .tripleQuoteBadIndentation: "E0007"
        case .expected: "E0100"
        case .unclosed: "E0101"
        case .unsupportedVersion: "E0102"
        case .misplacedHeader: "E0103"
        case .importNotFound: "E0200"
        case .importCycle: "E0201"
        case .duplicateLet: "E0202"
        case .undefinedName: "E0203"
        case .cannotRead: "E0204"
        case .unknownBlockKind: "E0300"
        case .unknownKey: "E0301"
        case .keyNotForKind: "E0302"
        case .unknownTopLevelKey: "E0303"
        case .duplicateKey: "E0304"
        case .duplicateBlock: "E0305"
        case .tooManyBlocks: "E0306"
        case .missingBlock: "E0307"
        case .wrongType: "E0310"
        case .outOfRange: "E0311"
        case .unknownValue: "E0312"
        case .wrongArgumentCount: "E0313"
        case .sweepNotAllowed: "E0314"
        case .emptySweep: "E0315"
        case .unknownVariable: "E0316"
        case .layerOutOfRange: "E0317"
        case .invalid: "E0318"
        }
    }

    public var message: String {
        switch self {
        case .unterminatedString: "unterminated string"
        case .unterminatedBlockComment: "unterminated `/*` comment"
        case .unexpectedCharacter(let c): "unexpected character `\(c)`"
        case .invalidNumber(let t): "`\(t)` is not a valid number"
        case .invalidEscape(let e): "unknown escape `\(e)` in string"
        case .tripleQuoteContentOnOpeningLine: "text after an opening `\"\"\"` on the same line"
        case .tripleQuoteBadIndentation: "line in a `\"\"\"` string is indented less than its closing `\"\"\"`"
        case .expected(let what, let found): "expected \(what), found \(found)"
        case .unclosed(let d): "unclosed `\(d)`"
        case .unsupportedVersion(let v): "unsupported language version `tdx \(v)`"
        case .misplacedHeader: "`tdx` version header must be the first line of a spec"
        case .importNotFound(let p, let reason): "cannot import \"\(p)\": \(reason)"
        case .cannotRead(let p, let reason): "cannot read \"\(p)\": \(reason)"
        case .importCycle(let p): "import cycle: \"\(p)\" imports itself, directly or indirectly"
        case .duplicateLet(let n): "`\(n)` is already defined by an earlier `let`"
        case .undefinedName(let n, _): "`\(n)` is not defined"
        case .unknownBlockKind(let k, _): "unknown block kind `\(k)`"
        case .unknownKey(let k, let b, _): "unknown key `\(k)` in `\(b)` block"
        case .keyNotForKind(let k, let b, let kind, _): "`\(k)` is not a parameter of \(b) kind `\(kind)`"
        case .unknownTopLevelKey(let k, _): "unknown top-level setting `\(k)`"
        case .duplicateKey(let k): "`\(k)` is set twice in this block"
        case .duplicateBlock(let n): "duplicate block `\(n)`"
        case .tooManyBlocks(let k): "a spec can have only one `\(k)` block"
        case .missingBlock(let k, let by): "\(by == "a spec" ? by : "`\(by)`") needs \("aeiou".contains(k.first ?? "x") ? "an" : "a") `\(k)` block"
        case .wrongType(let k, let e, let f): "`\(k)` expects \(e), found \(f)"
        case .outOfRange(let k, let v, let a): "`\(k)` = \(v) is out of range: must be \(a)"
        case .unknownValue(let k, let v, _, _): "`\(v)` is not a valid value for `\(k)`"
        case .wrongArgumentCount(let c, let e, let f):
            "`\(c)(…)` takes \(e.count == 1 ? "\(e.lowerBound)" : "\(e.lowerBound) or \(e.upperBound - 1)") argument\(e.upperBound == 2 ? "" : "s"), found \(f)"
        case .sweepNotAllowed(let k): "`\(k)` cannot be swept"
        case .emptySweep(let k): "sweep over `\(k)` has no values"
        case .unknownVariable(let v, _): "unknown variable `\(v)`"
        case .layerOutOfRange(let l, let d, let m): "layer \(l) does not exist: `\(m)` has \(d) blocks (0…\(d - 1))"
        case .invalid(let k, let r, _): "`\(k)`: \(r)"
        }
    }

    public var help: String? {
        switch self {
        case .unterminatedString: "close the string with `\"` on the same line, or use `\"\"\"` for text over several lines"
        case .unterminatedBlockComment: "close the comment with `*/`"
        case .unexpectedCharacter: "remove it; names are letters, digits and `_`, values are numbers, strings, lists or calls"
        case .invalidNumber: "write numbers like `30`, `0.99`, `-10` or `1e-5`"
        case .invalidEscape: "use `\\\\`, `\\\"`, `\\n` or `\\t`"
        case .tripleQuoteContentOnOpeningLine: "start the text on the line after `\"\"\"`"
        case .tripleQuoteBadIndentation: "indent every line at least as far as the closing `\"\"\"`"
        case .expected: "a spec is a list of `key = value` settings and `kind [name] { … }` blocks"
        case .unclosed(let d): "add the matching `\(d == "{" ? "}" : d == "[" ? "]" : d == "(" ? ")" : d)`"
        case .unsupportedVersion: "this tdx understands `tdx 1`"
        case .misplacedHeader: "move `tdx 1` to the top of the file"
        case .importNotFound: "import paths are relative to the importing file"
        case .cannotRead: "name a .tdx spec file"
        case .importCycle: "remove one of the imports in the cycle"
        case .duplicateLet: "rename one of them"
        case .undefinedName(_, let s): s.map { "did you mean `\($0)`?" } ?? "define it with `let` or as a block name"
        case .unknownBlockKind(_, let s): s.map { "did you mean `\($0)`?" } ?? "block kinds: \(Schema.blockKindNames.joined(separator: ", "))"
        case .unknownKey(_, let b, let s): s.map { "did you mean `\($0)`?" } ?? "see `tdx help \(b)` for its parameters"
        case .keyNotForKind(_, _, _, let v): "it applies to kind\(v.count == 1 ? "" : "s") \(v.map { "`\($0)`" }.joined(separator: ", "))"
        case .unknownTopLevelKey(_, let s): s.map { "did you mean `\($0)`?" } ?? "top-level settings: \(Schema.topLevel.params.map(\.name).joined(separator: ", "))"
        case .duplicateKey: "remove one of them, or sweep with `key in [a, b]`"
        case .duplicateBlock: "give the blocks different names"
        case .tooManyBlocks: "use one spec per experiment, or a sweep inside the block"
        case .missingBlock(let k, _): "add a `\(k) { }` block (an empty block takes every default)"
        case .wrongType(let k, let e, _): "write \(e) for `\(k)`"
        case .outOfRange(let k, _, let a): "choose a value of `\(k)` \(a.hasPrefix("in") ? "" : "that is ")\(a)"
        case .unknownValue(_, _, let allowed, let s):
            s.map { "did you mean `\($0)`?" } ?? "valid values: \(allowed.map { "`\($0)`" }.joined(separator: ", "))"
        case .wrongArgumentCount(let c, let e, _): "write `\(c)(\(Array(repeating: "…", count: e.lowerBound).joined(separator: ", ")))`"
        case .sweepNotAllowed: "sweep a numeric or choice parameter instead"
        case .emptySweep: "list at least one value: `key in [a, b]`"
        case .unknownVariable(_, let s): s.map { "did you mean `\($0)`?" } ?? "variables: \(Schema.variableNames.joined(separator: ", "))"
        case .layerOutOfRange: "use `layers = all` or a range inside the model's depth"
        case .invalid(_, _, let h): h
        }
    }
}

import TDXCore
import TDXLang

extension Plan {
    /// Terraform-like summary line.
    public var summaryLine: String {
        let run = toRun.count, cached = cachedCount
        let skip = stages.count - run - cached
        return "\(run) to run, \(cached) cached" + (skip > 0 ? ", \(skip) not needed" : "")
    }

    public func renderText(color: Bool = false) -> String {
        func paint(_ s: String, _ c: String) -> String { color ? "\u{1B}[\(c)m\(s)\u{1B}[0m" : s }
        let width = min(40, stages.map(\.stage.id.count).max() ?? 10)
        var out = ""
        for p in stages {
            let mark: String
            switch p.status {
            case .run: mark = paint("+ run   ", "32")
            case .cached: mark = paint("  cached", "2")
            case .skip: mark = paint("  skip  ", "2")
            }
            let id = p.stage.id.count >= width ? p.stage.id : p.stage.id + String(repeating: " ", count: width - p.stage.id.count)
            out += "\(mark)  \(id)  \(paint(String(p.stage.key.prefix(12)), "2"))  \(p.status == .run ? p.reason : "")\n"
        }
        return out + "\n" + paint("Plan: \(summaryLine).", "1") + "\n"
    }

    /// `{"stages":[{"id","kind","key","status","reason"}],"summary":{"run":N,"cached":M}}`
    public func renderJSON() -> String {
        let items = stages.map { p in
            "{\"id\":\(JSONText.string(p.stage.id)),\"kind\":\"\(p.stage.kind.rawValue)\",\"key\":\"\(p.stage.key)\","
                + "\"status\":\"\(p.status == .skip ? "skip" : p.status.rawValue)\",\"reason\":\(JSONText.string(p.reason))}"
        }
        return "{\"stages\":[" + items.joined(separator: ",") + "],\"summary\":{\"run\":\(toRun.count),\"cached\":\(cachedCount)}}"
    }
}

import TDXCore

/// Where a sweep variant's report goes under `Results/<spec>/`: a directory named by its swept values.
public enum ReportDirectory {
    /// `report{correlate.partial=[reward, time],sae.beta=1e-5}` → `correlate.partial=reward+time_sae.beta=1e-5`
    /// (list items joined by +, parameters by _, quotes dropped, nothing else outside [A-Za-z0-9._=+-]).
    /// The variant where every swept parameter added later keeps its default carries no values: `defaults`.
    public static func name(_ reportID: String) -> String {
        let tag = String(reportID.drop { $0 != "{" }).filter { !"{}[]\"".contains($0) }
            .replacingOccurrences(of: ", ", with: "+").replacingOccurrences(of: ",", with: "_")
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._=+-")
        let safe = String(tag.map { allowed.contains($0) ? $0 : "_" })
        return safe.isEmpty ? "defaults" : safe
    }

    /// The names of all of a sweep's variant directories, by report id: `name(id)`, except that variants whose
    /// names would clash (their values differ only in characters a name drops: `a/b` and `a_b`) or that
    /// would pass 200 bytes end in a short digest of the id, so no two variants share a directory.
    public static func names(_ reportIDs: [String]) -> [String: String] {
        let plain = reportIDs.map(name)
        var uses: [String: Int] = [:]
        for n in plain { uses[n, default: 0] += 1 }
        var out: [String: String] = [:]
        for (id, n) in zip(reportIDs, plain) {
            out[id] = uses[n] == 1 && n.utf8.count <= 200 ? n : String(n.prefix(180)) + "-" + String(SHA256.hex(id).prefix(8))
        }
        return out
    }

    /// Whether a directory name is one `name` can give (how a results directory of variants is recognised).
    public static func isVariantName(_ n: String) -> Bool { n == "defaults" || n.contains("=") }
}

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
}

// TDXReport: see DESIGN.md §2. Filled in by its issue.
public enum TDXReportModule { public static let name = "TDXReport" }

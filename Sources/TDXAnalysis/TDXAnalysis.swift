// TDXAnalysis: see DESIGN.md §2. Filled in by its issue.
public enum TDXAnalysisModule { public static let name = "TDXAnalysis" }

// TDXNumerics: see DESIGN.md §2. Filled in by its issue.
public enum TDXNumericsModule { public static let name = "TDXNumerics" }

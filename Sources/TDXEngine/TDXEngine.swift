// TDXEngine: see DESIGN.md §2. Filled in by its issue.
public enum TDXEngineModule { public static let name = "TDXEngine" }

// TDXModels: see DESIGN.md §2. Filled in by its issue.
public enum TDXModelsModule { public static let name = "TDXModels" }

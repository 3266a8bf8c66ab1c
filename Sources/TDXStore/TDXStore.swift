// TDXStore: see DESIGN.md §2. Filled in by its issue.
public enum TDXStoreModule { public static let name = "TDXStore" }

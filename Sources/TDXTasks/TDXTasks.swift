// TDXTasks: see DESIGN.md §2. Filled in by its issue.
public enum TDXTasksModule { public static let name = "TDXTasks" }

// TDXPlan: see DESIGN.md §2. Filled in by its issue.
public enum TDXPlanModule { public static let name = "TDXPlan" }

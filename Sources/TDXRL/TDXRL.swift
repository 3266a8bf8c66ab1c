// TDXRL: see DESIGN.md §2. Filled in by its issue.
public enum TDXRLModule { public static let name = "TDXRL" }

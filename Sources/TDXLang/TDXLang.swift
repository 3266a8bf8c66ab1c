// TDXLang: see DESIGN.md §2. Filled in by its issue.
public enum TDXLangModule { public static let name = "TDXLang" }

/// The 1,854 THINGS object concepts (Hebart et al. 2019), shipped in the module as source.
public enum ThingsConcepts {
    /// Every concept word in THINGS order (multi-word names keep their spaces; 27 words repeat).
    public static let all: [String] = ThingsConceptsData.text.split(separator: "\n").map(String.init)

    /// The pool node names are drawn from. `singleWord` drops names with a space; `unambiguous` drops every
    /// word THINGS lists more than once (its numbered senses, e.g. bat1/bat2), so names are unique and
    /// carry one meaning. Defaults give 1,523 names.
    public static func pool(singleWord: Bool = true, unambiguous: Bool = true) -> [String] {
        var counts: [String: Int] = [:]
        for w in all { counts[w, default: 0] += 1 }
        var seen = Set<String>()
        return all.filter { w in
            if singleWord && w.contains(" ") { return false }
            if unambiguous && counts[w]! > 1 { return false }
            return seen.insert(w).inserted
        }
    }
}

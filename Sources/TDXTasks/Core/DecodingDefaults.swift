extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the key is absent: lets configs decode from partial JSON,
    /// every missing field taking its documented default.
    func value<T: Decodable>(_ key: Key, or fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}

/// Shared checks for `validate()`.
enum Check {
    static func probability(_ p: Double, _ name: String, open: Bool = true) -> [String] {
        let ok = open ? (p > 0 && p < 1) : (p >= 0 && p <= 1)
        return ok ? [] : ["\(name) = \(p) must lie in \(open ? "(0, 1)" : "[0, 1]")"]
    }
    static func positive(_ n: Int, _ name: String) -> [String] { n > 0 ? [] : ["\(name) = \(n) must be at least 1"] }
    static func nonNegative(_ x: Double, _ name: String) -> [String] {
        x >= 0 && x.isFinite ? [] : ["\(name) = \(x) must be a finite number ≥ 0"]
    }
    static func distinct(_ labels: [String], _ name: String) -> [String] {
        Set(labels).count == labels.count ? [] : ["\(name) must be distinct: \(labels)"]
    }
}

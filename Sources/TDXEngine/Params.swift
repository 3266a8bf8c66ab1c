import TDXLang

/// A stage's parameters under one prefix (`task`, `agent.q_learning`), with typed reads. The values
/// were checked by the language's schema, so a missing or mistyped one is a bug, reported as such.
public struct Params: Sendable {
    public let values: [String: Value]
    public let prefix: String

    public init(_ values: [String: Value], prefix: String) { self.values = values; self.prefix = prefix }

    /// A parameter's value; an elided one the resolved spec left out holds its schema default.
    public subscript(_ name: String) -> Value? {
        values[prefix.isEmpty ? name : "\(prefix).\(name)"]
            ?? Schema.elidedDefault(block: String(prefix.prefix { $0 != "." }), subKind: values["\(prefix).kind"]?.symbolValue, name)
    }

    public func int(_ n: String, _ d: Int = 0) -> Int { self[n]?.intValue ?? d }
    public func double(_ n: String, _ d: Double = 0) -> Double { self[n]?.doubleValue ?? d }
    public func bool(_ n: String, _ d: Bool = false) -> Bool { self[n]?.boolValue ?? d }
    public func string(_ n: String, _ d: String = "") -> String { self[n]?.stringValue ?? d }
    public func symbol(_ n: String, _ d: String = "") -> String { self[n]?.head ?? d }
    public func strings(_ n: String) -> [String] { self[n]?.listValue?.compactMap(\.stringValue) ?? [] }

    /// The agent blocks present in these parameters (`agent.<name>.kind`), in name order.
    public static func agentNames(_ values: [String: Value]) -> [String] {
        values.keys.filter { $0.hasPrefix("agent.") && $0.hasSuffix(".kind") }
            .map { String($0.dropFirst(6).dropLast(5)) }.sorted()
    }
}

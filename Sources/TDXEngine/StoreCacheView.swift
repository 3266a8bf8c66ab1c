import Foundation
import TDXLang
import TDXPlan
import TDXStore

/// The planner's view of the SQLite cache: which keys are stored, and what the last run of a stage
/// used (decoded from the parameters JSON the executor stores with every artifact).
struct StoreCacheView: CacheView {
    let store: Store
    let cached: Set<String>

    init(store: Store, graph: StageGraph) throws {
        self.store = store
        self.cached = try store.cachedKeys(among: graph.stages.map(\.key))
    }

    func isCached(key: String) -> Bool { cached.contains(key) }

    func previous(specPath: String, stageID: String) -> PreviousStage? {
        guard let key = try? store.latestKey(stage: stageID, spec: specPath),
              let json = try? store.paramsJSON(key: key),
              let obj = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        return PreviousStage(key: key, codeVersion: obj["code"] as? Int ?? 0,
                             params: obj["params"] as? [String: String] ?? [:],
                             inputs: obj["inputs"] as? [String: String] ?? [:])
    }
}

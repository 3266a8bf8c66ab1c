import TDXCore
import TDXTasks

/// Closed-loop rollouts with the language model choosing or predicting at each slot.
enum LanguageModelRollout {
    static func twoStep(_ config: TwoStepConfig, seed: UInt64, ctx: StageContext) throws -> RolloutData {
        throw NotImplementedYet("Two-Step rollouts with the language model")
    }
    static func gridWorld(_ config: GridWorldConfig, control: GridWorldConfig?, seed: UInt64, ctx: StageContext) throws -> RolloutData {
        throw NotImplementedYet("Grid World rollouts with the language model")
    }
    static func graph(_ config: GraphConfig, seed: UInt64, ctx: StageContext) throws -> RolloutData {
        throw NotImplementedYet("graph rollouts with the language model")
    }
}

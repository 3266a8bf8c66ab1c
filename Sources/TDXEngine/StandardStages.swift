import TDXPlan

/// The real stage bodies, by kind (DESIGN.md §4).
public enum StandardStages {
    public static var registry: StageRegistry {
        StageRegistry([
            ModelStage(), RolloutStage(), ActivationsStage(), BehaviourStage(), VariablesStage(), SAEStage(), CorrelateStage(), InterveneStage(), GeometryStage(), ReportStage(), CompareStage(),
        ])
    }
}

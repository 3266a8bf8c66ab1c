import TDXCore
import TDXModels

/// A transcript longer than the model's context: caught before the model reads anything where the text is
/// known in advance (predictions), or where it first happens (closed loop).
enum ContextError: UserError {
    /// Transcripts known (or, closed loop, estimated) before any reading that do not fit. `control`: the
    /// random-reward control's transcripts.
    case over(experiments: [Int], of: Int, longest: (experiment: Int, tokens: Int), context: Int, task: String,
              estimated: Bool, control: Bool)
    /// A closed-loop transcript that outgrew the context while being played.
    case reached(experiment: Int, episode: Int, tokens: Int, context: Int)

    /// Throws `.over` when any (experiment, tokens) is longer than the model's context.
    static func check(_ lengths: [(experiment: Int, tokens: Int)], model: ModelRunner, task: String, estimated: Bool = false,
                      control: Bool = false) throws {
        let context = model.config.contextLength
        let over = lengths.filter { $0.tokens > context }.sorted { $0.experiment < $1.experiment }
        guard let longest = over.max(by: { $0.tokens < $1.tokens }) else { return }
        throw ContextError.over(experiments: over.map(\.experiment), of: lengths.count, longest: longest, context: context,
                                task: task, estimated: estimated, control: control)
    }

    /// Throws `.reached` when a closed-loop read needs more positions than the context has.
    static func checkPlaying(_ experiment: Int, episode: Int, tokens: Int, model: ModelRunner) throws {
        let context = model.config.contextLength
        if tokens > context { throw ContextError.reached(experiment: experiment, episode: episode, tokens: tokens, context: context) }
    }

    var message: String {
        switch self {
        case .over(let over, let n, let longest, let context, _, let estimated, let control):
            "\(over.count) of \(n) \(control ? "random-reward control " : "")transcripts do not fit the model's context of \(context) tokens "
                + "(experiment\(over.count == 1 ? "" : "s") " + over.prefix(8).map(String.init).joined(separator: ", ") + (over.count > 8 ? ", …" : "")
                + "; the longest, experiment \(longest.experiment), has \(longest.tokens) tokens"
                + (estimated ? " when every choice takes the first answer; the model's choices change the length little)" : ")")
        case .reached(let e, let episode, let tokens, let context):
            "experiment \(e)'s transcript reached \(tokens) tokens in episode \(episode + 1), past the model's context of \(context) tokens"
        }
    }

    var help: String? {
        switch self {
        case .over(_, _, _, _, let task, _, _): "shorten the transcripts: \(Self.knobs(task)); nothing was read by the model"
        case .reached: "shorten the transcripts: \(Self.knobs("two_step")); finished batches of experiments are kept"
        }
    }

    /// The task parameters that make its transcripts shorter.
    static func knobs(_ task: String) -> String {
        switch task {
        case "grid_world": "fewer `episodes`, a smaller `max_steps`, or shorter `prompt_…` templates"
        case "graph": "a shorter `walk_length`, or shorter `prompt_…` templates"
        default: "fewer `episodes`, or shorter `prompt_…` templates"
        }
    }
}

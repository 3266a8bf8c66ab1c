import TDXCore
import TDXModels

/// A transcript longer than the model's context: caught before the model reads anything where the text is
/// known in advance (predictions), or where it first happens (closed loop).
enum ContextError: UserError {
    /// Transcripts known (or, closed loop, estimated) before any reading that do not fit.
    case over(experiments: [Int], of: Int, longest: (experiment: Int, tokens: Int), context: Int, estimated: Bool)
    /// A closed-loop transcript that outgrew the context while being played.
    case reached(experiment: Int, episode: Int, tokens: Int, context: Int)

    /// Throws `.over` when any (experiment, tokens) is longer than the model's context.
    static func check(_ lengths: [(experiment: Int, tokens: Int)], model: ModelRunner, estimated: Bool = false) throws {
        let context = model.config.contextLength
        let over = lengths.filter { $0.tokens > context }.sorted { $0.experiment < $1.experiment }
        guard let longest = over.max(by: { $0.tokens < $1.tokens }) else { return }
        throw ContextError.over(experiments: over.map(\.experiment), of: lengths.count, longest: longest, context: context,
                                estimated: estimated)
    }

    var message: String {
        switch self {
        case .over(let over, let n, let longest, let context, let estimated):
            "\(over.count) of \(n) transcripts do not fit the model's context of \(context) tokens (experiment\(over.count == 1 ? "" : "s") "
                + over.prefix(8).map(String.init).joined(separator: ", ") + (over.count > 8 ? ", …" : "")
                + "; the longest, experiment \(longest.experiment), has \(longest.tokens) tokens"
                + (estimated ? " when every choice takes the first answer; the model's choices change the length little)" : ")")
        case .reached(let e, let episode, let tokens, let context):
            "experiment \(e)'s transcript reached \(tokens) tokens in episode \(episode + 1), past the model's context of \(context) tokens"
        }
    }

    var help: String? {
        switch self {
        case .over: "shorten the transcripts: fewer `episodes`, a smaller `max_steps` or `walk_length`, or shorter `prompt` templates; nothing was read by the model"
        case .reached: "shorten the transcripts: fewer `episodes` or shorter `prompt` templates; finished batches of experiments are kept"
        }
    }
}

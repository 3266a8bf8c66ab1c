// The rendered text of one experiment and the events inside it.
//
// Spans are UTF-8 BYTE offsets into `Transcript.text` (half-open, `start..<end`). Byte offsets are what a
// byte-level BPE tokenizer's offset mapping produces, so later stages map an event to the token(s) whose
// bytes overlap its span. `String.utf8` gives the same indices: `text.utf8.dropFirst(start).prefix(end-start)`.

/// A half-open range of UTF-8 byte offsets into a transcript's text.
public struct TextSpan: Codable, Sendable, Hashable {
    public var start: Int
    public var end: Int
    public init(start: Int, end: Int) { self.start = start; self.end = end }
    public var count: Int { end - start }
}

public enum EventKind: String, Codable, Sendable {
    /// An answer slot: the span covers the answer written there (e.g. " X"). `answers` lists the valid ones.
    case choice
    /// A state becoming known: a planet reached, a grid position.
    case state
    /// A reward shown as a number.
    case reward
    /// A node of a graph walk.
    case node
}

/// One event and where its text is.
public struct Event: Codable, Sendable, Hashable {
    public var kind: EventKind
    public var span: TextSpan
    /// 0-based episode (graph task: always 0).
    public var episode: Int
    /// 0-based index of the step (choice / transition) within the experiment this event belongs to.
    public var step: Int
    /// Task state index: the state a choice is made in, the state revealed, or the node.
    public var state: Int?
    /// The reward value behind a reward event (the value the RL models learn from; a control rendering may
    /// show a different number, see `shown`).
    public var value: Double?
    /// Choice events: every valid answer string, exactly as it would be written after the slot.
    public var answers: [String]?
    /// Choice events: index into `answers` of the answer written into the text.
    public var written: Int?
    /// Choice events: the policy's answer (differs from `written` for prediction slots, where the text
    /// continues with the true action or node whatever was predicted).
    public var chosen: Int?
    /// Choice events: the policy's probabilities over `answers`, when the policy has them.
    public var probabilities: [Double]?
    /// Choice events: whether the answer was forced uniformly at random (Two-Step's first episodes).
    public var forcedRandom: Bool?
    /// The text of the span (for reading transcripts and debugging).
    public var shown: String

    public init(kind: EventKind, span: TextSpan, episode: Int, step: Int, state: Int? = nil, value: Double? = nil,
                answers: [String]? = nil, shown: String) {
        self.kind = kind; self.span = span; self.episode = episode; self.step = step; self.state = state
        self.value = value; self.answers = answers; self.shown = shown
    }
}

/// Append-only text with events. Appending is the only mutation, which is what makes every rendering
/// prefix-stable: the text after step t is a prefix of the text after step t + 1.
public struct Transcript: Codable, Sendable, Hashable {
    public private(set) var text: String = ""
    public private(set) var events: [Event] = []
    /// UTF-8 length of `text`, kept so spans need no O(n) recount.
    public private(set) var byteCount: Int = 0

    public init() {}

    public mutating func append(_ s: String) {
        text += s
        byteCount += s.utf8.count
    }

    /// Appends `s` as the span of a new event and returns the event's index.
    @discardableResult
    public mutating func appendEvent(_ s: String, kind: EventKind, episode: Int, step: Int, state: Int? = nil,
                                     value: Double? = nil, answers: [String]? = nil) -> Int {
        let start = byteCount
        append(s)
        events.append(Event(kind: kind, span: TextSpan(start: start, end: byteCount), episode: episode, step: step,
                            state: state, value: value, answers: answers, shown: s))
        return events.count - 1
    }

    /// Fills in the outcome of a choice event (its span was appended by `appendEvent`).
    public mutating func recordChoice(event: Int, written: Int, chosen: Int, probabilities: [Double]?,
                                      forcedRandom: Bool) {
        events[event].written = written
        events[event].chosen = chosen
        events[event].probabilities = probabilities
        events[event].forcedRandom = forcedRandom
    }

    /// The text of a span.
    public func substring(_ span: TextSpan) -> String {
        let u = Array(text.utf8)
        return String(decoding: u[span.start..<span.end], as: UTF8.self)
    }
}

extension Transcript {
    /// Adds a second event over an existing span (e.g. a graph node that is also a choice slot's answer).
    public mutating func addEvent(over span: TextSpan, shown: String, kind: EventKind, episode: Int, step: Int,
                                  state: Int? = nil) -> Int {
        events.append(Event(kind: kind, span: span, episode: episode, step: step, state: state, shown: shown))
        return events.count - 1
    }
}

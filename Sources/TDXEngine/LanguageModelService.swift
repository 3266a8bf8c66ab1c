import Foundation
import TDXCore
import TDXModels
import TDXTasks

extension StageContext {
    /// The model identity the `model` stage recorded (path, SHA-256, shape).
    func modelInfo() throws -> ModelInfoRecord {
        try JSONDecoder().decode(ModelInfoRecord.self, from: try inputData("model", "model"))
    }

    /// The language model, loaded once per process and shared by every stage that needs it.
    func languageModel() throws -> LanguageModel {
        let info = try modelInfo()
        return try services.get("llm:\(info.path)") { try LanguageModel.load(path: info.path) }
    }
}

/// What the `model` stage stores.
struct ModelInfoRecord: Codable, Sendable {
    var path: String
    var sha256: String
    var blocks: Int
    var dModel: Int
    var vocab: Int
}

/// Token ids of a transcript fed to the model piece by piece, with the byte offset where each token
/// ends, so transcript events (byte spans) map to token positions.
struct TokenTrack: Codable, Sendable {
    var ids: [Int] = []
    /// Byte offset in the transcript text at which each token ends.
    var ends: [Int] = []
    /// Bytes of the transcript already tokenized.
    var bytes = 0

    /// Appends the tokens of `text[bytes...]`; returns how many were added.
    @discardableResult
    mutating func extend(to text: String, tokenizer: Tokenizer) -> Int {
        let all = Array(text.utf8)
        guard all.count > bytes else { return 0 }
        let piece = String(decoding: all[bytes...], as: UTF8.self)
        let new = tokenizer.encode(piece, addSpecial: ids.isEmpty, parseSpecial: false)
        var at = bytes
        for id in new {
            if ids.isEmpty && id == tokenizer.bos && tokenizer.addBOS { ids.append(id); ends.append(at); continue }
            at += tokenizer.bytes(of: id).count
            ids.append(id); ends.append(at)
        }
        bytes = all.count
        return new.count
    }

    /// The token covering the last (or first) byte of a span.
    func position(of span: TextSpan, last: Bool = true) -> Int? {
        let target = last ? span.end - 1 : span.start
        // First token whose end is past the target byte.
        var lo = 0, hi = ends.count
        while lo < hi { let mid = (lo + hi) / 2; if ends[mid] > target { hi = mid } else { lo = mid + 1 } }
        return lo < ends.count ? lo : nil
    }

    /// The last token that ends at or before byte `offset` (the position whose logits predict what follows).
    func position(before offset: Int) -> Int? {
        var lo = 0, hi = ends.count
        while lo < hi { let mid = (lo + hi) / 2; if ends[mid] > offset { hi = mid } else { lo = mid + 1 } }
        return lo > 0 ? lo - 1 : nil
    }
}

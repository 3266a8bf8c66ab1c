import Foundation
import TDXCore
import TDXModels
import TDXPlan

/// `model`: finds the weights file, checks its SHA-256 against the spec's pin, and records the model's shape.
struct ModelStage: StageBody {
    let kind = StageKind.model
    let codeVersion = 1

    func run(_ group: [StageContext]) throws -> [StageOutput] {
        try group.map { ctx in
            let p = Params(ctx.stage.params, prefix: "model")
            let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
            var out = StageOutput()
            if p.symbol("backend", "local") != "local" {
                let w = try Engine.workerIdentity(p, specPath: ctx.specPath, store: ctx.store, services: ctx.services)
                let c = w.runner.config
                let info = ModelInfoRecord(path: w.runner.backend.source, sha256: w.digest, blocks: c.blockCount, dModel: c.dModel,
                                           vocab: c.vocabSize, backend: w.identity)
                out.json("model", String(decoding: try e.encode(info), as: UTF8.self))
                return out
            }
            let dir = URL(fileURLWithPath: ctx.specPath).deletingLastPathComponent().path
            let path = try ModelStore(environment: ProcessInfo.processInfo.environment, currentDirectory: dir).resolve(p.string("weights"))
            let digest = try ctx.store.fileDigest(path: path, compute: Engine.fileSHA256)
            let pinned = p.string("sha256").lowercased()
            guard pinned.isEmpty || pinned == digest else {
                throw ModelStageError.digestMismatch(path: path, expected: pinned, found: digest)
            }
            let c = try ModelRunner.shared(p, info: ModelInfoRecord(path: path, sha256: digest, blocks: 0, dModel: 0, vocab: 0),
                                           specPath: ctx.specPath, services: ctx.services).config
            let info = ModelInfoRecord(path: path, sha256: digest, blocks: c.blockCount, dModel: c.dModel, vocab: c.vocabSize)
            out.json("model", String(decoding: try e.encode(info), as: UTF8.self))
            return out
        }
    }
}

enum ModelStageError: UserError {
    case digestMismatch(path: String, expected: String, found: String)
    case unreadable(String)

    var message: String {
        switch self {
        case .digestMismatch(let p, let e, let f): "\(p) has SHA-256 \(f.prefix(16))…, but the spec pins \(e.prefix(16))…"
        case .unreadable(let p): "cannot read the weights file \(p)"
        }
    }
    var help: String? {
        switch self {
        case .digestMismatch: "the file is corrupt or a different model: run `tdx model fetch` again, or update `sha256` in the spec"
        case .unreadable: "check the path and its permissions"
        }
    }
}

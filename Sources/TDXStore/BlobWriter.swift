import Dispatch
import Foundation

/// Streams one blob into chunk rows inside the artifact's transaction. Memory use is at most one
/// chunk buffer, and none when the caller writes chunk-sized, chunk-aligned spans (`[Float]`, `Data`).
/// Chunks are inserted while other cores hash them.
public final class BlobWriter {
    private let db: Database
    private let blobID: Int64
    private var tree = TreeHasher()
    private var buffer: UnsafeMutableRawBufferPointer?
    private var buffered = 0
    private var chunks = 0
    private(set) var size = 0
    private var finished = false

    init(db: Database) throws {
        self.db = db
        try db.run("INSERT INTO blob(digest, size, chunks) VALUES (NULL, 0, 0)")
        blobID = db.lastInsertRowID
    }

    deinit { buffer?.deallocate() }

    /// Full chunks taken straight from the caller's memory per flush: one thread inserts them in
    /// order while the other cores hash them.
    static let batch = 4

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!finished, "BlobWriter used after its blob was finished")
        var rest = bytes
        while !rest.isEmpty {
            if buffered == 0 && rest.count >= Store.chunkSize {
                let n = min(rest.count / Store.chunkSize, BlobWriter.batch)
                try flush((0..<n).map { i in
                    let lo = rest.startIndex + i * Store.chunkSize
                    return UnsafeRawBufferPointer(rebasing: rest[lo..<(lo + Store.chunkSize)])
                })
                rest = UnsafeRawBufferPointer(rebasing: rest[(rest.startIndex + n * Store.chunkSize)...])
                continue
            }
            let buf = buffer ?? UnsafeMutableRawBufferPointer.allocate(byteCount: Store.chunkSize, alignment: 64)
            buffer = buf
            let n = min(Store.chunkSize - buffered, rest.count)
            UnsafeMutableRawBufferPointer(rebasing: buf[buffered..<(buffered + n)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: rest[rest.startIndex..<(rest.startIndex + n)]))
            buffered += n
            rest = UnsafeRawBufferPointer(rebasing: rest[(rest.startIndex + n)...])
            if buffered == Store.chunkSize {
                try flush([UnsafeRawBufferPointer(buf)])
                buffered = 0
            }
        }
    }

    public func write(_ data: Data) throws { try data.withUnsafeBytes { try write($0) } }
    public func write(floats: [Float]) throws { try floats.withUnsafeBytes { try write($0) } }

    /// Inserts consecutive chunks (in order, on one thread) while other threads hash each of them.
    private func flush(_ batch: [UnsafeRawBufferPointer]) throws {
        let insert = try db.statement("INSERT INTO chunk(blob_id, idx, data) VALUES (?, ?, ?)")
        var insertError: Error?
        var digests = [[[UInt8]]](repeating: [], count: batch.count)
        // Only iteration 0 touches the connection, while this thread waits, so sharing it is safe.
        let shared = SendableBox((insert, batch, blobID, chunks))
        withUnsafeMutablePointer(to: &insertError) { errorSlot in
            digests.withUnsafeMutableBufferPointer { digestSlots in
                let slots = SendableBox((errorSlot, digestSlots))
                DispatchQueue.concurrentPerform(iterations: batch.count + 1) { i in
                    let (insert, batch, blobID, first) = shared.value
                    if i == 0 {
                        do {
                            for (j, chunk) in batch.enumerated() {
                                try insert.bind([blobID, first + j])
                                try insert.bindBlobNoCopy(chunk, at: 3)
                                try insert.run()
                            }
                        } catch { slots.value.0.pointee = error }
                    } else {
                        slots.value.1[i - 1] = BlobDigest.leafDigests(batch[i - 1])
                    }
                }
            }
        }
        if let insertError { throw insertError }
        for (chunk, d) in zip(batch, digests) {
            tree.appendLeaves(d)
            chunks += 1
            size += chunk.count
        }
    }

    /// Writes the last partial chunk, names the blob by its digest and returns the row to link.
    /// An identical blob already stored is reused and this copy dropped (same transaction).
    func finish() throws -> (id: Int64, digest: String) {
        precondition(!finished, "BlobWriter finished twice")
        finished = true
        if buffered > 0, let buf = buffer {
            try flush([UnsafeRawBufferPointer(rebasing: buf[0..<buffered])])
            buffered = 0
        }
        let digest = tree.finalize()
        if let existing = try db.row("SELECT id FROM blob WHERE digest = ?", [digest], { $0.int64(0) }) {
            try db.run("DELETE FROM blob WHERE id = ?", blobID)
            return (existing, digest)
        }
        try db.run("UPDATE blob SET digest = ?, size = ?, chunks = ? WHERE id = ?", digest, size, chunks, blobID)
        return (blobID, digest)
    }
}

/// Collects an artifact's named blobs inside `Store.writeArtifact`.
public final class ArtifactWriter {
    let db: Database
    private(set) var entries: [(name: String, format: BlobFormat, id: Int64, digest: String, size: Int)] = []

    init(db: Database) { self.db = db }

    /// Streams a blob: `body` calls `write` as often as it likes.
    public func streamBlob(_ name: String, format: BlobFormat = .bytes, _ body: (BlobWriter) throws -> Void) throws {
        guard !entries.contains(where: { $0.name == name }) else {
            throw StoreError.invalidArgument("blob `\(name)` written twice in one artifact")
        }
        let w = try BlobWriter(db: db)
        try body(w)
        let (id, digest) = try w.finish()
        if case .float32(let shape) = format, shape.reduce(1, *) * 4 != w.size {
            throw StoreError.invalidArgument("blob `\(name)`: shape \(shape) does not match \(w.size) bytes")
        }
        entries.append((name, format, id, digest, w.size))
    }

    /// Stores a float array; `shape` defaults to one dimension.
    public func putFloats(_ name: String, _ values: [Float], shape: [Int]? = nil) throws {
        try streamBlob(name, format: .float32(shape: shape ?? [values.count])) { try $0.write(floats: values) }
    }

    public func putData(_ name: String, _ data: Data, format: BlobFormat = .bytes) throws {
        try streamBlob(name, format: format) { try $0.write(data) }
    }

    public func putString(_ name: String, _ text: String, format: BlobFormat = .text) throws {
        try putData(name, Data(text.utf8), format: format)
    }

    func outputDigest() -> String {
        Store.outputDigest(of: entries.map { BlobInfo(name: $0.name, digest: $0.digest, size: $0.size, format: $0.format) })
    }
}

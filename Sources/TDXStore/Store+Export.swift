import Foundation

/// NumPy `.npy` (format version 1.0) header for a little-endian float32 C-order array.
public enum NPY {
    public static func float32Header(shape: [Int]) -> Data {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': \(dims), }"
        // Magic (6) + version (2) + length (2) + dict + "\n" must be a multiple of 64.
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
        let n = UInt16(dict.utf8.count)
        out.append(contentsOf: [UInt8(n & 0xff), UInt8(n >> 8)])
        out.append(Data(dict.utf8))
        return out
    }
}

extension Store {
    /// Writes one blob of an artifact into `directory`: float32 arrays as `.npy` (with their shape),
    /// JSON / CSV / text as-is. Streams chunk by chunk and renames into place, so a partial file is
    /// never left under the final name. Returns the written path.
    @discardableResult
    public func export(key: String, blob name: String, to directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try withBlobReader(key: key, blob: name) { reader in
            let ext: String
            switch reader.info.format {
            case .float32: ext = "npy"
            case .json: ext = "json"
            case .csv: ext = "csv"
            case .text: ext = "txt"
            case .bytes: ext = "bin"
            }
            // Text and raw blobs named with an extension (`report.md`, `fig.svg`) keep their name.
            let own = (name as NSString).pathExtension
            let keep = own == ext || (!own.isEmpty && [BlobFormat.text, .bytes].contains(reader.info.format))
            let base = keep ? name : name + "." + ext
            let target = (directory as NSString).appendingPathComponent(base.replacingOccurrences(of: "/", with: "_"))
            let temp = target + ".partial-\(getpid())"
            guard FileManager.default.createFile(atPath: temp, contents: nil),
                  let fh = FileHandle(forWritingAtPath: temp) else {
                throw StoreError.readOnly(path: target)
            }
            do {
                if case .float32(let shape) = reader.info.format { try fh.write(contentsOf: NPY.float32Header(shape: shape)) }
                try reader.forEachSpan { span in try fh.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: span.baseAddress!), count: span.count, deallocator: .none)) }
                try fh.close()
                if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
                try FileManager.default.moveItem(atPath: temp, toPath: target)
            } catch {
                try? fh.close()
                try? FileManager.default.removeItem(atPath: temp)
                throw error
            }
            return target
        }
    }

    /// Exports every blob of an artifact; returns the written paths in blob-name order.
    public func exportAll(key: String, to directory: String) throws -> [String] {
        guard let info = try artifact(key) else { throw StoreError.notFound(what: "artifact \(key)") }
        return try info.blobs.map { try export(key: key, blob: $0.name, to: directory) }
    }
}

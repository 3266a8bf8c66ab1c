import Foundation
import TDXNumerics

/// Minimal reader/writer for the safetensors format (float32 only): an 8-byte little-endian header length,
/// a JSON header mapping names to dtype/shape/data_offsets, then the raw little-endian data.
public enum Safetensors {
    /// Writes tensors in the given order; `metadata` goes under "__metadata__".
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = [:]
        var offset = 0
        for (name, t) in tensors {
            let bytes = t.count * 4
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data starts 8-byte aligned, as the reference implementation does.
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, t) in tensors {
            t.data.withUnsafeBufferPointer { out.append(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) }
        }
        do { try out.write(to: url, options: .atomic) } catch {
            throw AnalysisFileError.unreadable(path: url.path, reason: "\(error.localizedDescription)")
        }
    }

    /// Reads every tensor of a float32 safetensors file.
    public static func read(_ url: URL) throws -> [String: Tensor] {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw AnalysisFileError.unreadable(path: path, reason: error.localizedDescription)
        }
        guard data.count >= 8 else { throw AnalysisFileError.malformed(path: path, reason: "shorter than its 8-byte header length") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(data.count - 8) else { throw AnalysisFileError.malformed(path: path, reason: "header length \(n) exceeds the file") }
        let headerData = data.subdata(in: 8..<(8 + Int(n)))
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw AnalysisFileError.malformed(path: path, reason: "header is not a JSON object")
        }
        let base = 8 + Int(n)
        var out: [String: Tensor] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = (info["shape"] as? [NSNumber])?.map(\.intValue),
                  let offs = (info["data_offsets"] as? [NSNumber])?.map(\.intValue), offs.count == 2 else {
                throw AnalysisFileError.malformed(path: path, reason: "bad header entry for \(name)")
            }
            guard dtype == "F32" else { throw AnalysisFileError.unsupportedDType(path: path, tensor: name, dtype: dtype) }
            let count = shape.reduce(1, *)
            guard offs[1] - offs[0] == count * 4, offs[0] >= 0, base + offs[1] <= data.count else {
                throw AnalysisFileError.malformed(path: path, reason: "data_offsets of \(name) do not match its shape")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in
                _ = data.copyBytes(to: dst, from: (base + offs[0])..<(base + offs[1]))
            }
            out[name] = Tensor(shape: shape, data: values)
        }
        return out
    }
}

import Foundation

/// The safetensors format, shared by model loading (memory-mapped, F32/F16/BF16) and SAE export (F32):
/// an 8-byte little-endian header length N, N bytes of JSON {name: {"dtype", "shape", "data_offsets": [begin, end]},
/// "__metadata__": {string: string}}, then the raw little-endian tensors; offsets count from the end of the header.
public enum Safetensors {
    /// Headers longer than this are treated as corrupt rather than read.
    public static let maxHeaderLength = 100_000_000

    /// One tensor's place in the data section.
    public struct Entry: Sendable, Equatable {
        public var dtype: DType
        public var shape: [Int]
        /// Byte range within the data section.
        public var bytes: Range<Int>
        public var count: Int { shape.reduce(1, *) }
    }

    /// A parsed header; `dataOffset` is where the data section starts in the file (8 + N).
    public struct Header: Sendable, Equatable {
        public var entries: [String: Entry]
        public var metadata: [String: String]
        public var dataOffset: Int
    }

    /// A decoded tensor.
    public struct Tensor: Sendable, Equatable {
        public var shape: [Int]
        public var values: [Float]
        public init(shape: [Int], values: [Float]) {
            precondition(shape.reduce(1, *) == values.count)
            self.shape = shape; self.values = values
        }
    }

    /// Parses and checks the header of a whole file held in `file` (every tensor must lie inside it).
    public static func parseHeader(_ file: UnsafeRawBufferPointer) throws -> Header {
        guard file.count >= 8 else { throw SafetensorsError.tooShort(file.count) }
        let n = UInt64(littleEndian: file.loadUnaligned(as: UInt64.self))
        guard n >= 2, n <= UInt64(min(maxHeaderLength, file.count - 8)) else { throw SafetensorsError.badHeaderLength(n) }
        let json = Data(UnsafeRawBufferPointer(rebasing: file[8..<(8 + Int(n))]))
        guard let obj = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else { throw SafetensorsError.headerNotJSON }
        let dataOffset = 8 + Int(n)
        var header = Header(entries: [:], metadata: [:], dataOffset: dataOffset)
        for (name, value) in obj {
            if name == "__metadata__" {
                guard let meta = value as? [String: String] else { throw SafetensorsError.badEntry(name) }
                header.metadata = meta
                continue
            }
            guard let e = value as? [String: Any], let dtypeName = e["dtype"] as? String, let shape = e["shape"] as? [Int],
                  let off = e["data_offsets"] as? [Int], off.count == 2, off[0] >= 0, off[1] >= off[0],
                  shape.allSatisfy({ $0 >= 0 && $0 < 1 << 32 }) else {
                throw SafetensorsError.badEntry(name)
            }
            guard let dtype = DType(rawValue: dtypeName) else { throw SafetensorsError.unsupportedDType(tensor: name, dtype: dtypeName) }
            guard off[1] - off[0] == shape.reduce(1, *) * dtype.byteWidth else { throw SafetensorsError.sizeMismatch(name) }
            guard dataOffset + off[1] <= file.count else { throw SafetensorsError.pastEnd(name) }
            header.entries[name] = Entry(dtype: dtype, shape: shape, bytes: off[0]..<off[1])
        }
        return header
    }

    /// Decodes one entry of `file` (as given to `parseHeader`) into floats.
    public static func floats(_ entry: Entry, header: Header, file: UnsafeRawBufferPointer) -> [Float] {
        let count = entry.count
        return [Float](unsafeUninitializedCapacity: count) { buf, n in
            entry.dtype.decode(file.baseAddress! + header.dataOffset + entry.bytes.lowerBound, count: count, into: buf.baseAddress!)
            n = count
        }
    }

    /// The bytes of a file holding float32 `tensors` in the given order (header keys in that order too),
    /// with `metadata` under "__metadata__". The header is padded with spaces so data starts 8-byte aligned.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) -> [UInt8] {
        var fields: [(String, String)] = []
        if !metadata.isEmpty {
            fields.append(("__metadata__", JSONText.object(metadata.sorted { $0.key < $1.key }.map { ($0.key, JSONText.string($0.value)) })))
        }
        var offset = 0
        for (name, t) in tensors {
            let bytes = t.values.count * DType.f32.byteWidth
            fields.append((name, JSONText.object([
                ("dtype", JSONText.string(DType.f32.rawValue)),
                ("shape", JSONText.array(t.shape.map(String.init))),
                ("data_offsets", JSONText.array([String(offset), String(offset + bytes)])),
            ])))
            offset += bytes
        }
        var json = Array(JSONText.object(fields).utf8)
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out += $0 }
        out += json
        for (_, t) in tensors {
            for v in t.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        }
        return out
    }

    /// Reads every tensor of a file, converted to float32.
    public static func read(_ url: URL) throws -> [String: Tensor] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw SafetensorsError.unreadable(error.localizedDescription) }
        return try data.withUnsafeBytes { file in
            let header = try parseHeader(file)
            return header.entries.mapValues { Tensor(shape: $0.shape, values: floats($0, header: header, file: file)) }
        }
    }

    /// Writes float32 `tensors` atomically (see `encode`).
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        do { try Data(encode(tensors, metadata: metadata)).write(to: url, options: .atomic) } catch {
            throw SafetensorsError.unreadable(error.localizedDescription)
        }
    }
}

/// Why a safetensors file could not be read or written; each layer maps these to its own user-facing errors.
public enum SafetensorsError: Error, Equatable, Sendable {
    case unreadable(String)
    case tooShort(Int)
    case badHeaderLength(UInt64)
    case headerNotJSON
    case badEntry(String)
    case unsupportedDType(tensor: String, dtype: String)
    case sizeMismatch(String)
    case pastEnd(String)

    /// A clause for the enclosing error's message.
    public var reason: String {
        switch self {
        case let .unreadable(r): return r
        case let .tooShort(n): return "\(n) bytes is shorter than the 8-byte header length"
        case let .badHeaderLength(n): return "a header length of \(n)"
        case .headerNotJSON: return "the header is not a JSON object"
        case let .badEntry(name): return "the header entry for '\(name)' is malformed"
        case let .unsupportedDType(t, d): return "tensor '\(t)' has dtype \(d) (F32, F16 and BF16 are supported)"
        case let .sizeMismatch(name): return "the data_offsets of '\(name)' do not match its shape and dtype"
        case let .pastEnd(name): return "tensor '\(name)' runs past the end of the file"
        }
    }
}

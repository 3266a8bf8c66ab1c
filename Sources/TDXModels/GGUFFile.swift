import Foundation

/// A GGUF metadata value (all thirteen GGUF value types).
public indirect enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), array([GGUFValue])
    case uint64(UInt64), int64(Int64), float64(Double)

    public var int: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        case .bool(let v): return v ? 1 : 0
        default: return nil
        }
    }
    public var double: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return int.map(Double.init)
        }
    }
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var array: [GGUFValue]? { if case .array(let a) = self { return a }; return nil }
}

/// ggml tensor element types that tdx dequantises (raw values are the ggml enum).
public enum GGMLType: Int, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q8_0 = 8, q4_K = 12, q5_K = 13, q6_K = 14, bf16 = 30

    /// Values per block and bytes per block.
    public var block: (values: Int, bytes: Int) {
        switch self {
        case .f32: return (1, 4)
        case .f16, .bf16: return (1, 2)
        case .q4_0: return (32, 18)
        case .q4_1: return (32, 20)
        case .q8_0: return (32, 34)
        case .q4_K: return (256, 144)
        case .q5_K: return (256, 176)
        case .q6_K: return (256, 210)
        }
    }
}

public struct GGUFTensorInfo: Sendable {
    public var name: String
    /// ggml order: dims[0] (ne0) is the contiguous dimension.
    public var dims: [Int]
    public var type: GGMLType
    /// Offset relative to the start of the data section.
    public var offset: Int
    public var count: Int { dims.reduce(1, *) }
    public var byteCount: Int { count / type.block.values * type.block.bytes }
}

/// A memory-mapped GGUF (v2/v3) file: metadata, tensor table, and f32 access to each tensor.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: Int
    public private(set) var metadata: [String: GGUFValue] = [:]
    /// In file order.
    public private(set) var tensors: [GGUFTensorInfo] = []
    public private(set) var tensorIndex: [String: Int] = [:]
    let file: MappedFile
    let dataOffset: Int

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        var c = ByteCursor(file: file, offset: 0)
        let magic = try c.bytes(4, "the magic number")
        guard Array(magic) == Array("GGUF".utf8) else {
            throw ModelError.badMagic(path, found: Array(magic).map { String(format: "%02x", $0) }.joined(separator: " "))
        }
        version = Int(try c.read(UInt32.self, "the version"))
        guard version == 2 || version == 3 else { throw ModelError.unsupportedVersion(path, version) }
        let nTensors = try c.read(UInt64.self, "the header")
        let nKV = try c.read(UInt64.self, "the header")
        guard nTensors < 1 << 24, nKV < 1 << 24 else { throw ModelError.truncated(path, detail: "implausible header counts") }
        for _ in 0..<nKV {
            let key = try Self.readString(&c)
            let type = try c.read(UInt32.self, "metadata '\(key)'")
            metadata[key] = try Self.readValue(&c, type: type, key: key, path: path)
        }
        for _ in 0..<nTensors {
            let name = try Self.readString(&c)
            let nd = Int(try c.read(UInt32.self, "tensor '\(name)'"))
            guard nd <= 4 else { throw ModelError.badMetadata(path, "tensor '\(name)' dimensions") }
            var dims: [Int] = []
            for _ in 0..<nd { dims.append(Int(truncatingIfNeeded: try c.read(UInt64.self, "tensor '\(name)'"))) }
            guard dims.allSatisfy({ $0 > 0 && $0 < 1 << 32 }), dims.reduce(1.0, { $0 * Double($1) }) < 0x1p40 else {
                throw ModelError.badMetadata(path, "tensor '\(name)' dimensions \(dims)")
            }
            let rawType = Int(try c.read(UInt32.self, "tensor '\(name)'"))
            guard let type = GGMLType(rawValue: rawType) else {
                throw ModelError.unknownTensorType(path, tensor: name, type: rawType)
            }
            let off = Int(truncatingIfNeeded: try c.read(UInt64.self, "tensor '\(name)'"))
            guard off >= 0 else { throw ModelError.badMetadata(path, "tensor '\(name)' offset") }
            let info = GGUFTensorInfo(name: name, dims: dims, type: type, offset: off)
            guard info.count % type.block.values == 0 else {
                throw ModelError.badMetadata(path, "tensor '\(name)' size (not a whole number of blocks)")
            }
            tensorIndex[name] = tensors.count
            tensors.append(info)
        }
        let align = metadata["general.alignment"]?.int ?? 32
        guard align > 0 else { throw ModelError.badMetadata(path, "general.alignment") }
        dataOffset = (c.offset + align - 1) / align * align
        for t in tensors where dataOffset + t.offset + t.byteCount > file.count {
            throw ModelError.truncated(path, detail: "tensor '\(t.name)' runs past the end of the file")
        }
    }

    private static func readString(_ c: inout ByteCursor) throws -> String {
        let n = try c.read(UInt64.self, "a string length")
        guard n < 1 << 32 else { throw ModelError.truncated(c.file.path, detail: "implausible string length") }
        let b = try c.bytes(Int(n), "a string")
        return String(decoding: b, as: UTF8.self)
    }

    private static func readValue(_ c: inout ByteCursor, type: UInt32, key: String, path: String) throws -> GGUFValue {
        let what = "metadata '\(key)'"
        switch type {
        case 0: return .uint8(try c.read(UInt8.self, what))
        case 1: return .int8(try c.read(Int8.self, what))
        case 2: return .uint16(try c.read(UInt16.self, what))
        case 3: return .int16(try c.read(Int16.self, what))
        case 4: return .uint32(try c.read(UInt32.self, what))
        case 5: return .int32(try c.read(Int32.self, what))
        case 6: return .float32(Float(bitPattern: try c.read(UInt32.self, what)))
        case 7: return .bool(try c.read(UInt8.self, what) != 0)
        case 8: return .string(try readString(&c))
        case 9:
            let et = try c.read(UInt32.self, what)
            let n = try c.read(UInt64.self, what)
            guard n < 1 << 28 else { throw ModelError.truncated(path, detail: "implausible array length in \(what)") }
            var out: [GGUFValue] = []
            out.reserveCapacity(Int(n))
            for _ in 0..<n { out.append(try readValue(&c, type: et, key: key, path: path)) }
            return .array(out)
        case 10: return .uint64(try c.read(UInt64.self, what))
        case 11: return .int64(try c.read(Int64.self, what))
        case 12: return .float64(Double(bitPattern: try c.read(UInt64.self, what)))
        default: throw ModelError.badMetadata(path, key)
        }
    }

    public func info(_ name: String) -> GGUFTensorInfo? { tensorIndex[name].map { tensors[$0] } }

    /// The tensor dequantised to f32, in storage order (ne0 fastest).
    public func floats(_ name: String) throws -> [Float] {
        guard let t = info(name) else { throw ModelError.missingTensor(path, name) }
        let raw = UnsafeRawBufferPointer(start: file.base + dataOffset + t.offset, count: t.byteCount)
        return [Float](unsafeUninitializedCapacity: t.count) { buf, n in
            Dequantize.run(t.type, raw, into: buf.baseAddress!, count: t.count)
            n = t.count
        }
    }

    /// The tensor as f32 after checking its ggml dims (ne0 first).
    public func floats(_ name: String, dims: [Int]) throws -> [Float] {
        guard let t = info(name) else { throw ModelError.missingTensor(path, name) }
        guard t.dims == dims else { throw ModelError.shapeMismatch(path, tensor: name, expected: dims, found: t.dims) }
        return try floats(name)
    }

    public func string(_ key: String) -> String? { metadata[key]?.string }
    public func int(_ key: String) -> Int? { metadata[key]?.int }
    public func double(_ key: String) -> Double? { metadata[key]?.double }
}

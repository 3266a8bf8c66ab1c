import Foundation

/// The binary part of a message: little-endian float32 arrays back to back.
public struct WorkerPayload: Sendable, Equatable {
    public private(set) var bytes: [UInt8]

    public init(bytes: [UInt8] = []) { self.bytes = bytes }

    public var byteCount: Int { bytes.count }

    /// Appends an array and returns where it lies.
    public mutating func append(_ floats: [Float]) -> PayloadRef {
        let ref = PayloadRef(offset: bytes.count, count: floats.count)
        #if _endian(little)
        floats.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
        for f in floats { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        #endif
        return ref
    }

    /// The array at `ref`, or a sentence saying why it cannot be read.
    public func floats(at ref: PayloadRef) throws(WorkerFrame.Problem) -> [Float] {
        guard ref.count >= 0, ref.offset >= 0 || ref.count == 0 else {
            throw WorkerFrame.Problem("array {offset \(ref.offset), count \(ref.count)} has a negative field")
        }
        if ref.count == 0 { return [] }
        guard ref.offset % 4 == 0 else { throw WorkerFrame.Problem("array offset \(ref.offset) is not a multiple of 4") }
        let (end, overflow) = ref.offset.addingReportingOverflow(ref.count.multipliedReportingOverflow(by: 4).partialValue)
        guard !overflow, ref.count <= Int.max / 4, end <= bytes.count else {
            throw WorkerFrame.Problem("array {offset \(ref.offset), count \(ref.count)} runs past the \(bytes.count)-byte payload")
        }
        var out = [Float](repeating: 0, count: ref.count)
        bytes.withUnsafeBytes { src in
            #if _endian(little)
            out.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[ref.offset..<end])) }
            #else
            for i in 0..<ref.count {
                out[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: ref.offset + 4 * i, as: UInt32.self)))
            }
            #endif
        }
        return out
    }
}

/// One message on the wire: a JSON header line, then `payload_bytes` raw bytes.
public struct WorkerFrame: Sendable, Equatable {
    /// Why a header or payload cannot be read, in one phrase (becomes `WorkerError.Kind.malformed`).
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public var description: String
        public init(_ d: String) { description = d }
    }

    /// The JSON object, without the terminating newline.
    public var header: Data
    public var payload: WorkerPayload

    public init(header: Data, payload: WorkerPayload = WorkerPayload()) { self.header = header; self.payload = payload }

    /// Encodes a header (sorted keys, so equal requests are equal bytes). The header must already carry
    /// `payload_bytes` when the payload is not empty.
    public init<H: Encodable>(encoding h: H, payload: WorkerPayload = WorkerPayload()) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.init(header: try e.encode(h), payload: payload)
    }

    /// Header line, newline, payload.
    public var bytes: [UInt8] {
        var b = [UInt8](header)
        b.reserveCapacity(header.count + 1 + payload.byteCount)
        b.append(0x0A)
        b += payload.bytes
        return b
    }

    /// The header as a JSON object with the fields every message has checked: `id` an integer, `ok` (responses)
    /// a boolean, `payload_bytes` absent or a non-negative integer.
    public static func object(ofHeader line: Data, response: Bool) throws(Problem) -> [String: Any] {
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: line, options: [.fragmentsAllowed]) } catch {
            throw Problem("the header line is not JSON: \(excerpt(line))")
        }
        guard let obj = any as? [String: Any] else { throw Problem("the header line is not a JSON object: \(excerpt(line))") }
        guard let id = obj["id"], integer(id) != nil else { throw Problem("the header has no integer \"id\": \(excerpt(line))") }
        if response {
            guard let ok = obj["ok"] as? NSNumber, isBool(ok) else {
                throw Problem("the header has no boolean \"ok\": \(excerpt(line))")
            }
        }
        if let p = obj["payload_bytes"], !(p is NSNull) {
            guard let n = integer(p), n >= 0 else { throw Problem("\"payload_bytes\" is not a non-negative integer") }
        }
        return obj
    }

    /// `payload_bytes` of a checked header (0 when absent or null).
    public static func payloadBytes(of obj: [String: Any]) -> Int { obj["payload_bytes"].flatMap(integer) ?? 0 }
    public static func id(of obj: [String: Any]) -> Int { obj["id"].flatMap(integer) ?? -1 }

    /// Decodes a typed header; a missing or mistyped field becomes a `Problem` naming it.
    public static func decode<T: Decodable>(_ type: T.Type, from line: Data) throws(Problem) -> T {
        do { return try JSONDecoder().decode(T.self, from: line) } catch let e as DecodingError {
            throw Problem(describe(e))
        } catch {
            throw Problem("\(error)")
        }
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ p: [any CodingKey]) -> String {
            p.isEmpty ? "the header" : p.map { $0.intValue.map { "[\($0)]" } ?? "\"\($0.stringValue)\"" }.joined(separator: ".")
        }
        switch e {
        case .keyNotFound(let k, let c): return "\(path(c.codingPath + [k])) is missing"
        case .typeMismatch(let t, let c): return "\(path(c.codingPath)) is not of type \(t)"
        case .valueNotFound(let t, let c): return "\(path(c.codingPath)) is null where \(t) is needed"
        case .dataCorrupted(let c): return "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }

    static func integer(_ v: Any) -> Int? {
        guard let n = v as? NSNumber, !isBool(n) else { return nil }
        let d = n.doubleValue
        guard d == d.rounded(), abs(d) < 9.0e15 else { return nil }
        return n.intValue
    }

    static func isBool(_ n: NSNumber) -> Bool {
        // CoreFoundation on Darwin, and swift-corelibs-foundation, both give JSON booleans this type.
        type(of: n) == type(of: NSNumber(value: true)) && (n == NSNumber(value: true) || n == NSNumber(value: false))
    }

    static func excerpt(_ line: Data) -> String {
        let s = String(decoding: line.prefix(120), as: UTF8.self)
        return "'" + s + (line.count > 120 ? "…'" : "'")
    }
}

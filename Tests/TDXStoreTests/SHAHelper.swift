import TDXCore

/// The reference SHA-256 from TDXCore, for checking the store's digest construction.
enum TDXCoreSHA {
    static func hash(_ bytes: [UInt8]) -> [UInt8] { var h = SHA256(); bytes.withUnsafeBytes { h.update(bytes: $0) }; return h.finalize() }
    static func hex(_ bytes: [UInt8]) -> String { SHA256.hex(bytes) }
}

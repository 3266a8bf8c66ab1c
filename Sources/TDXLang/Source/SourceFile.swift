// Source text with exact positions. Offsets are UTF-8 byte offsets; columns shown to users are
// 1-based counts of Unicode scalars, so a caret under `γ` lands where the eye expects it.

public struct SourceFile: Sendable, Hashable {
    public let path: String
    public let text: String
    public let bytes: [UInt8]
    /// Byte offset at which each line starts.
    public let lineStarts: [Int]

    public init(path: String, text: String) {
        self.path = path
        self.text = text
        self.bytes = Array(text.utf8)
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
        self.lineStarts = starts
    }

    /// 1-based line and column of a byte offset (clamped into the file).
    public func location(of offset: Int) -> SourceLocation {
        let o = max(0, min(offset, bytes.count))
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= o { lo = mid } else { hi = mid - 1 }
        }
        let col = scalarCount(from: lineStarts[lo], to: o)
        return SourceLocation(line: lo + 1, column: col + 1)
    }

    /// The text of a 1-based line without its newline.
    public func line(_ n: Int) -> String {
        guard n >= 1 && n <= lineStarts.count else { return "" }
        let start = lineStarts[n - 1]
        var end = n < lineStarts.count ? lineStarts[n] - 1 : bytes.count
        if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
    }

    public func slice(_ range: SourceRange) -> String {
        let s = max(0, min(range.start, bytes.count)), e = max(s, min(range.end, bytes.count))
        return String(decoding: bytes[s..<e], as: UTF8.self)
    }

    func scalarCount(from a: Int, to b: Int) -> Int {
        var n = 0
        var i = a
        while i < b {
            // Count only lead bytes (not 10xxxxxx continuation bytes).
            if bytes[i] & 0xC0 != 0x80 { n += 1 }
            i += 1
        }
        return n
    }
}

public struct SourceLocation: Sendable, Hashable, Codable {
    public var line: Int
    public var column: Int
}

/// A half-open byte range in one file.
public struct SourceRange: Sendable, Hashable {
    public var file: Int
    public var start: Int
    public var end: Int

    public init(file: Int, start: Int, end: Int) { self.file = file; self.start = start; self.end = max(start, end) }

    public func to(_ other: SourceRange) -> SourceRange { SourceRange(file: file, start: start, end: max(end, other.end)) }

    /// Used for values that come from defaults rather than from text.
    public static let none = SourceRange(file: -1, start: 0, end: 0)
    public var isNone: Bool { file < 0 }
}

/// All files a spec read (the main file and its imports), addressed by index.
public struct SourceManager: Sendable {
    public private(set) var files: [SourceFile] = []
    public init() {}

    public mutating func add(_ file: SourceFile) -> Int { files.append(file); return files.count - 1 }
    public subscript(_ id: Int) -> SourceFile? { id >= 0 && id < files.count ? files[id] : nil }
}

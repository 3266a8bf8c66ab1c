import Foundation
import TDXCore
import TDXLang

enum FmtCommand: Subcommand {
    static let name = "fmt"
    static let summary = "Print a spec in canonical layout (--write to rewrite, --check to test)"
    static let help = """
    Usage: tdx fmt [--write | --check] FILE...

    Prints each spec in the canonical layout: two-space indents, one entry per line, a blank line
    between blocks. Comments and spellings (γ or gamma, 1e-5) are kept; the meaning never changes.

    Options:
      --write  Rewrite the files in place instead of printing them
      --check  Print nothing; exit 1 if any file is not formatted

    """

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        let args = try Arguments(arguments, flags: ["--write", "--check"], options: [])
        guard !args.positionals.isEmpty else { throw UsageError("no spec file given", help: "tdx fmt specs/quick.tdx") }
        var status: Int32 = 0
        for path in args.positionals {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw UsageError("cannot read \(path): \(error.localizedDescription)")
            }
            let file = SourceFile(path: path, text: text)
            var sources = SourceManager()
            let id = sources.add(file)
            let (ast, diags) = Parser.parse(file, fileID: id)
            if diags.hasErrors {
                io.err(DiagnosticRenderer(sources: sources, color: io.isTTY).render(diags.items))
                status = 1
                continue
            }
            let formatted = Formatter().format(ast)
            if args.has("--check") {
                if formatted != text { io.err("\(path): not formatted\n"); status = 1 }
            } else if args.has("--write") {
                if formatted != text {
                    do { try Self.rewrite(path, with: formatted) } catch {
                        throw UsageError("cannot write \(path): \(error.localizedDescription)")
                    }
                }
            } else {
                io.out(formatted)
            }
        }
        return status
    }

    /// Replaces the file's text atomically, through a symbolic link to the file it names, keeping its permissions.
    static func rewrite(_ path: String, with text: String) throws {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let mode = (try? FileManager.default.attributesOfItem(atPath: target)[.posixPermissions]) as? NSNumber
        try text.write(toFile: target, atomically: true, encoding: .utf8)
        if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: target) }
    }
}

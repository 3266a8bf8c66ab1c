import Foundation
import TDXCore
import TDXModels
import TDXNumerics

/// The command-line front end: argv → a subcommand → an exit code (0 ok, 1 user error, 2 internal).
public enum TDXCLI {
    /// Every top-level subcommand, in the order `tdx --help` lists them.
    public static var commands: [any Subcommand.Type] { [
        CheckCommand.self, FmtCommand.self, HashCommand.self, HelpCommand.self,
        PlanCommand.self, RunCommand.self, StatusCommand.self, LogCommand.self, ShowCommand.self,
        ExportCommand.self, GCCommand.self, VerifyCommand.self,
        BenchCommand.self, ModelCommand.self,
    ] }

    public static func main(_ argv: [String]) -> Int32 {
        let args = Array(argv.dropFirst())
        // Commands that multiply matrices first make sure OpenBLAS runs the best kernels this CPU has
        // (it may re-execute the process once with OPENBLAS_CORETYPE set).
        if let first = args.first, ["run", "bench", "model"].contains(first), let warning = BLASRuntime.ensureFastKernels() {
            FileHandle.standardError.write(Data((warning + "\n").utf8))
        }
        return run(args, io: .standard())
    }

    public static func run(_ args: [String], io: CommandIO) -> Int32 {
        guard let first = args.first else { io.out(usage); return 0 }
        switch first {
        case "--help", "-h": io.out(usage); return 0
        case "--version", "-V": io.out("tdx \(TDXVersion.string)\n\(BLASRuntime.summary)\n"); return 0
        default: break
        }
        guard let cmd = commands.first(where: { $0.name == first }) else {
            let help = Suggest.closest(to: first, in: commands.map { $0.name }).map { "did you mean `tdx \($0)`?" }
                ?? "run `tdx --help` for the list of commands"
            return fail(UsageError("unknown command `\(first)`", help: help), io: io)
        }
        let rest = Array(args.dropFirst())
        if rest.first == "--help" || rest.first == "-h" { io.out(cmd.help); return 0 }
        return invoke(cmd, rest, io: io)
    }

    /// Runs a subcommand and maps what it throws to an exit code and a message.
    public static func invoke(_ cmd: any Subcommand.Type, _ args: [String], io: CommandIO) -> Int32 {
        do {
            return try cmd.run(args, io: io)
        } catch let e as UserError {
            return fail(e, io: io)
        } catch is SpecInvalid {
            return 1   // the diagnostics are printed
        } catch let e as NotImplementedYet {
            io.err("tdx: \(e.description)\n")
            return 2
        } catch {
            io.err("tdx: internal error: \(error)\nThis is a bug in tdx; please report it with the command you ran.\n")
            return 2
        }
    }

    static func fail(_ e: UserError, io: CommandIO) -> Int32 {
        let red = io.isTTY ? "\u{1B}[1;31merror\u{1B}[0m" : "error"
        io.err("\(red): \(e.message)\n" + (e.help.map { "  = help: \($0)\n" } ?? ""))
        return 1
    }

    public static var usage: String {
        var s = """
        tdx \(TDXVersion.string): declarative experiments on RL-in-context, SAEs and TD learning in language models.

        Usage: tdx <command> [options]

        Commands:

        """
        let width = commands.map { $0.name.count }.max() ?? 8
        for c in commands {
            s += "  " + c.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + c.summary + "\n"
        }
        s += """

        Options:
          --help, -h     Show help (also `tdx <command> --help`)
          --version, -V  Print the version

        Exit codes: 0 success, 1 a problem you can fix (bad spec, bad arguments), 2 internal error or unavailable feature.
        Language reference: Grammar/README.md. Parameters of a block: `tdx help <block>`.

        """
        return s
    }
}

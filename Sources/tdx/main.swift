import Foundation
import TDXCLI

exit(TDXCLI.main(CommandLine.arguments))

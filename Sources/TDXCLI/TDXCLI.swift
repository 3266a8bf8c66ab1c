import Foundation

public enum TDXCLI {
    public static func main(_ argv: [String]) -> Int32 { 0 }
}

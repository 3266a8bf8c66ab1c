public enum TDXVersion {
    public static let string = "0.1.0"
}

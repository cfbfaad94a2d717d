package import HTTPTypes

extension HTTPFields {
    /// `self[name]`: the field's value, or its values joined as HTTPTypes joins them, found in one
    /// pass over the fields. HTTPTypes' subscript joins through a lazy generic sequence even for a
    /// single value, ~4,000 instructions per field that is there; ingest reads three per send.
    package func value(of name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            guard found == nil else { return self[name] }
            found = field.value
        }
        return found
    }
}

extension UInt8 {
    /// A space or a horizontal tab: HTTP's optional whitespace (RFC 9110, 5.6.3).
    var isOptionalWhitespace: Bool { self == UInt8(ascii: " ") || self == UInt8(ascii: "\t") }

    /// The byte with an ASCII capital letter made small; any other byte as it is.
    var lowercasedASCII: UInt8 { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self) ? self + 0x20 : self }
}

extension BidirectionalCollection<UInt8> {
    /// Without the optional whitespace at either end of a header value's part.
    func trimmingOptionalWhitespace() -> SubSequence {
        let start = firstIndex { !$0.isOptionalWhitespace } ?? endIndex
        let end = lastIndex { !$0.isOptionalWhitespace }.map(index(after:)) ?? start
        return self[start..<end]
    }
}

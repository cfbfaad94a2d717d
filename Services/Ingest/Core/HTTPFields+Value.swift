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

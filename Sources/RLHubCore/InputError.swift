// rlhub — the one error type for bad input (files, flags, specs), rendered as one line.
import Foundation

/// Bad input from a user, a file or the network: the CLI prints ``description`` on one line and
/// exits with status 2.
///
/// The message always names where the problem is: a file path plus a field (JSON key, tensor name)
/// or a byte offset, so that the user can find it without a debugger.
///
/// ```swift
/// throw InputError(file: "m/config.json", field: "num_key_value_heads",
///                  message: "must divide num_attention_heads (9), got 4")
/// // m/config.json: num_key_value_heads: must divide num_attention_heads (9), got 4
/// ```
public struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file (or other source, such as `--model`) the bad input came from.
    public var file: String
    /// The field, key, tensor name or `offset N` inside ``file``; empty when the whole input is bad.
    public var field: String
    /// What is wrong and, where possible, what to do instead.
    public var message: String

    public init(file: String, field: String = "", message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    /// Convenience for byte-level parsers: `field` becomes `offset N`.
    public init(file: String, offset: Int, message: String) {
        self.init(file: file, field: "offset \(offset)", message: message)
    }

    /// `file: field: message` on one line (newlines in parts are flattened).
    public var description: String {
        let parts = [file, field, message].filter { !$0.isEmpty }
        return parts.joined(separator: ": ").replacingOccurrences(of: "\n", with: " ")
    }
}

/// An error as one line for a stored failure reason: an ``InputError`` as it prints; a
/// Foundation error by its message plus the OS error under it (`No space left on device`), which
/// its default description buries in a multi-line dump or leaves out.
public func oneLineReason(_ error: any Error) -> String {
    if let input = error as? InputError { return input.description }
    let ns = error as NSError
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    guard ns.domain == NSCocoaErrorDomain else {
        let text = "\(error)".replacingOccurrences(of: "\n", with: " ")
        return text.isEmpty ? "\(type(of: error))" : text
    }
    var reason = ns.localizedDescription
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        reason += " (" + String(cString: strerror(Int32(underlying.code))) + ")"
    }
    if let path = ns.userInfo[NSFilePathErrorKey] as? String { reason = path + ": " + reason }
    return reason.replacingOccurrences(of: "\n", with: " ")
}

import Foundation

/// The process's resident memory, in bytes (`VmRSS`), for a test that runs alone in a process of
/// its own (an exit test): anything else the process does moves it too.
public func residentBytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
}

public import Foundation

/// The repository's root: the nearest folder above this file that holds `Package.swift`, so that
/// moving a test file between folders cannot send a test to the wrong place.
public let repositoryRoot: URL = {
    var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path), folder.path != "/" {
        folder.deleteLastPathComponent()
    }
    return folder
}()

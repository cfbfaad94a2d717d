import LoadApp

/// herald-load: Herald's load generator and benchmark driver (the commands are in LoadApp).
@main
enum LoadMain {
    static func main() async {
        await HeraldLoad.main()
    }
}

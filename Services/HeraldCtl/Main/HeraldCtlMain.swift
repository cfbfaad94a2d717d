import HeraldCtlApp

/// heraldctl: Herald's admin CLI (the commands are in HeraldCtlApp).
@main
enum HeraldCtlMain {
    static func main() async {
        await HeraldCtl.main()
    }
}

#[test]
fn init_works() {
    super::init().unwrap();
}

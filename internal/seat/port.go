package seat

// DefaultPort is the seat port of a primary unless its administrator chose
// another; a typed address without a port means this one.
const DefaultPort = 7443

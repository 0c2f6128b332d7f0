admin_cidr = "198.51.100.7/32"

"""What a group's members get: its benefit sections (`sections`: pricing, visibility, portal, payment
terms), inherited down the hierarchy (`hierarchy`), summed up in words (`summary`), turned into
prices (`pricing`), checked for a sample cart (`price_check`, `troubleshoot`), and where groups
overlap (`overlaps`)."""

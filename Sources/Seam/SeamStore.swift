@_exported public import SeamColumnar
@_exported public import SeamStorage

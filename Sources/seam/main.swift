import Seam
print("seam")
